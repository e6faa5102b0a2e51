"""Render-only views of the Prompt page: the token budget chart and the token-by-token view."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from core.llm.prompting import Prompt
from ui.widgets import escape

PART_COLOURS = {"system": "#636efa", "question": "#00cc96", "template": "#b6b6b6"}  # chunks: red
TOKEN_COLOURS = ("#fde2e4", "#e2ece9", "#dfe7fd", "#fff1c1", "#e8dff5")


def budget_figure(p: Prompt) -> go.Figure:
    """The prompt's parts stacked in tokens, against its budget and the context window."""
    fig = go.Figure()
    for part in p.parts:
        colour = PART_COLOURS.get(part.label, "#ef553b")
        fig.add_trace(go.Bar(x=[part.n_tokens], y=["prompt"], orientation="h", name=f"{part.label} ({part.n_tokens})",
                             marker_color=colour, hovertext=part.text[:200], marker_line={"color": "white", "width": 1}))
    # The two lines are often a few tokens apart: one label left of its line at the top, one right at the bottom.
    fig.add_vline(x=p.budget, line_dash="dot", annotation_text=f"prompt budget {p.budget:,}",
                  annotation_position="top left")
    fig.add_vline(x=p.context_window, line_color="red", annotation_text=f"context window {p.context_window:,}",
                  annotation_position="bottom right")
    fig.update_layout(barmode="stack", height=220, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title="tokens", xaxis_range=[0, max(p.context_window, p.n_tokens) * 1.05],
                      legend={"orientation": "h", "y": -0.5})
    return fig


def token_spans_html(ids: Sequence[int], pieces: Sequence[str]) -> str:
    """Each token's text on an alternating colour, its id underneath (``pieces[n]`` is the text of ``ids[n]``)."""
    spans = "".join(
        f'<span title="id {i}" style="background:{TOKEN_COLOURS[n % len(TOKEN_COLOURS)]};border-radius:3px;'
        f'padding:1px 0;white-space:pre-wrap">{escape(piece)}<sub style="color:#888">{i}</sub></span>'
        for n, (i, piece) in enumerate(zip(ids, pieces)))
    return f'<div style="font-family:monospace;line-height:2">{spans}</div>'
