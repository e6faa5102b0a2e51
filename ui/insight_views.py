"""Render-only views of how sure an answer was and where it came from (core.llm.confidence, core.llm.attribution).

Every function takes plain data (the dicts core returns) and escapes all model and document text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go
import streamlit as st

from core.answering import SYSTEMS

from ui.widgets import escape

if TYPE_CHECKING:
    import pandas as pd


def _shade(p: float) -> str:
    """Red (unsure) → green (sure) for a probability in [0, 1]."""
    p = min(1.0, max(0.0, p))
    r, g = int(230 - 130 * p), int(120 + 90 * p)
    return f"rgba({r},{g},110,0.35)"


def confidence_html(text: str, tokens: list[dict]) -> str:
    """The answer with each token's background coloured by the probability the model gave it."""
    out, at = [], 0
    for t in tokens:
        if t["start"] > at:
            out.append(escape(text[at:t["start"]]))
        piece = escape(text[t["start"]:t["end"]])
        out.append(f"<span title='p = {t['prob']:.3f}' style='background:{_shade(t['prob'])};border-radius:3px'>"
                   f"{piece}</span>")
        at = max(at, t["end"])
    out.append(escape(text[at:]))
    return f"<div style='line-height:1.9'>{''.join(out)}</div>"


def attribution_html(passage: str, spans: list[dict]) -> str:
    """The passage with each token's background as strong as the attention the answer paid it."""
    out, at = [], 0
    for s in sorted(spans, key=lambda s: s["start"]):
        if s["start"] < at:
            continue
        out.append(escape(passage[at:s["start"]]))
        alpha = round(0.05 + 0.75 * s["weight"], 3) if s["weight"] > 0.05 else 0
        piece = escape(passage[s["start"]:s["end"]])
        out.append(f"<span title='{s['weight']:.2f}' style='background:rgba(47,111,223,{alpha})'>{piece}</span>"
                   if alpha else piece)
        at = s["end"]
    out.append(escape(passage[at:]))
    return f"<div style='font-size:0.85rem;line-height:1.7'>{''.join(out).replace(chr(10), '<br>')}</div>"


def reference_probability_figure(probs: dict[str, float], value: str) -> go.Figure:
    """P(the right value) per system, on a log axis: closed book it is tiny, open book it is near 1."""
    systems = list(probs)
    values = [max(probs[s], 1e-6) for s in systems]
    fig = go.Figure(go.Bar(x=systems, y=values, text=[f"{probs[s]:.3f}" for s in systems], textposition="outside",
                           marker_color=["#2f6fdf" if v >= 0.5 else "#d9534f" for v in values]))
    fig.update_layout(title=f"Probability each system gives the right value “{value}”", yaxis_type="log",
                      yaxis_title="probability (log scale)", height=320, margin=dict(t=50, b=30, l=40, r=10))
    fig.update_yaxes(range=[-6.2, 0.3])
    return fig


def accuracy_probability_figure(rows: list[dict]) -> go.Figure:
    """For a Q&A set: the probability of the right value under each system, one box per system."""
    fig = go.Figure()
    for system in dict.fromkeys(r["system"] for r in rows):
        ys = [max(r["prob"], 1e-6) for r in rows if r["system"] == system]
        fig.add_trace(go.Box(y=ys, name=system, boxpoints="all", jitter=0.4))
    fig.update_layout(title="Probability of the right value, per question", yaxis_type="log",
                      yaxis_title="probability (log scale)", height=360, showlegend=False,
                      margin=dict(t=50, b=30, l=40, r=10))
    return fig


def edit_table(result: dict) -> "pd.DataFrame":
    """One row per checked question of a weight edit: kind, question, answer before and after, ✓/✗."""
    import pandas as pd

    labels = {"question": "reliability", "paraphrases": "generality", "others": "locality"}
    rows = [{"check": labels[kind], "ok": "✅" if r["ok"] else "❌", "question": r["question"], "after": r["after"],
             "before": r["before"]} for kind in labels for r in result["answers"][kind]]  # the punchline first
    return pd.DataFrame(rows)


def edit_trials_figure(trials: list[dict]) -> go.Figure:
    """Reliability, generality and locality of the edit at each layer: where the fact can be written."""
    fig = go.Figure()
    for key in ("reliability", "generality", "locality"):
        fig.add_bar(name=key, x=[f"layer {t['layer']}" for t in trials], y=[t[key] for t in trials])
    fig.update_layout(barmode="group", yaxis=dict(range=[0, 1.05], title="share"), height=300,
                      title="The edit, layer by layer", margin=dict(t=50, b=30, l=40, r=10),
                      legend=dict(orientation="h", y=1.15))
    return fig


def rewrites_figure(rows: list[dict], paper: dict | None = None) -> go.Figure:
    """Closed-book accuracy of document-trained adapters against the number of rewrites per document.

    ``paper``: Ovadia et al.'s numbers (``"lora"``: FT-reg, ``"lora (paraphrases)"``: FT-par) as dashed lines.
    """
    rows = sorted(rows, key=lambda r: r["rewrites"])
    fig = go.Figure(go.Scatter(x=[r["rewrites"] for r in rows], y=[r["accuracy"] for r in rows],
                               mode="lines+markers+text", text=[f"{r['accuracy']:.2f}" for r in rows],
                               textposition="top center"))
    for key, name in (("lora", "paper: FT-reg (documents)"), ("lora (paraphrases)", "paper: FT-par (rewritten)")):
        if paper and paper.get(key) is not None:
            fig.add_hline(y=paper[key], line_dash="dash", line_color="#9ca3af",
                          annotation_text=f"{name}, {paper.get('model', '')}: {paper[key]:.2f}")
    fig.update_layout(title="LoRA on the documents: closed-book accuracy vs rewrites per document",
                      xaxis_title="rewrites of each document in the training text", yaxis=dict(range=[0, 1.05],
                      title="accuracy (answer contains the value)"), height=320, margin=dict(t=50, b=40, l=40, r=10))
    return fig


def render_insight(answers: dict, insight: dict) -> None:
    """Each system's answer coloured by confidence, the right value's probability per system, RAG's attention."""
    for col, system in zip(st.columns(len(SYSTEMS)), SYSTEMS):
        if system in insight["systems"] and system in answers:
            col.markdown(f"**{system}**")
            col.markdown(confidence_html(answers[system].text, insight["systems"][system]["tokens"]),
                         unsafe_allow_html=True)
    probs = {s: d["reference"]["prob"] for s, d in insight["systems"].items() if d.get("reference")}
    if probs:
        st.plotly_chart(reference_probability_figure(probs, insight["value"]), key="ans_ref_prob")
    att = insight.get("attribution")
    if att:
        st.markdown(f"**Where RAG's answer came from**: {att['in_context']:.0%} of the answer's attention "
                    "(averaged over heads and layers) went to the retrieved chunk(s); darker = more.")
        for text, spans in zip(att["texts"], att["passages"]):
            st.markdown(attribution_html(text, spans), unsafe_allow_html=True)
