"""Render-only views of the Decision guide: the recommendation with its reasons, and the cost curves."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.decision import CostComparison, Recommendation
from ui.navigation import page_file

COLOURS = {"prompt engineering": "#9e9e9e", "RAG": "#1f77b4", "fine-tuning": "#ff7f0e", "RAG + fine-tuning": "#2ca02c"}


def scores_chart(rec: Recommendation) -> go.Figure:
    """Each approach's points, the recommended one in its colour."""
    fig = go.Figure(go.Bar(x=list(rec.scores.values()), y=list(rec.scores), orientation="h",
                           marker_color=[COLOURS[a] if a == rec.approach else "#d0d0d0" for a in rec.scores],
                           text=list(rec.scores.values()), textposition="auto"))
    fig.update_layout(height=200, margin=dict(l=0, r=10, t=10, b=0), xaxis_title="points",
                      yaxis=dict(autorange="reversed"))
    return fig


def render_recommendation(rec: Recommendation) -> None:
    """The recommendation, its points and every reason with a link to the Lab page that shows it."""
    with st.container(border=True):
        st.markdown(f"### Recommended: {rec.approach}")
        st.plotly_chart(scores_chart(rec), key="dg_scores_chart")
    st.markdown("**Why** (strongest first)")
    for r in sorted(rec.reasons, key=lambda r: -max(abs(p) for p in r.points.values())):
        pushes = ", ".join(f"{a} {p:+d}" for a, p in r.points.items() if p)
        st.markdown(f"**{r.criterion}** → *{r.points_to}*. {r.text}  \n"
                    f"<small>Points: {pushes}. See it in the Lab: {r.experiment}.</small>", unsafe_allow_html=True)
        # A short label: a long one is cut mid-word by the link's single line.
        st.page_link(page_file(r.lab_page), label=f"Open the {r.lab_page} page", icon="🔬")


def cost_chart(c: CostComparison) -> go.Figure:
    """Cumulative cost by month of RAG, fine-tuning and long context, with the break-even month."""
    fig = go.Figure()
    fig.add_scatter(x=c.month, y=c.rag_cumulative, name="RAG (context on every request)", mode="lines+markers",
                    line_color=COLOURS["RAG"])
    fig.add_scatter(x=c.month, y=c.finetune_cumulative, name="Fine-tuning (one-off + retraining)",
                    mode="lines+markers", line_color=COLOURS["fine-tuning"])
    if c.long_context_cumulative:
        fig.add_scatter(x=c.month, y=c.long_context_cumulative, name="Long context (every document, every request)",
                        mode="lines+markers", line_color="#9467bd", line_dash="dot")
    if c.break_even_month is not None:
        fig.add_vline(x=c.break_even_month, line_dash="dash", line_color="#2ca02c",
                      annotation_text=f"break-even: month {c.break_even_month}")
    fig.update_layout(title="Cumulative cost", xaxis_title="month", yaxis_title="$ spent so far", height=360,
                      margin=dict(l=0, r=0, t=40, b=0), legend=dict(orientation="h", y=-0.25))
    return fig
