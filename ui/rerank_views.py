"""Rendering for reranking and "why is this a hit": highlighted chunks, score parts, the rank slope chart.

Document text is escaped piece by piece *before* ``<mark>`` tags are added around it, so a chunk
holding ``<script>`` is shown as those characters, never run.
"""

from __future__ import annotations

import plotly.graph_objects as go

from core.rag.explain import Explanation
from core.rag.index import Hit
from ui.widgets import escape

TERM_COLOUR = "#fde047"  # BM25 term matches
SENTENCE_COLOUR = "#dbeafe"  # the sentence closest to the question
UP, DOWN, SAME = "#16a34a", "#dc2626", "#9ca3af"
PART_LABELS = {
    "dense": "dense cosine", "bm25": "BM25", "dense_rank": "dense rank", "bm25_rank": "BM25 rank",
    "rrf_dense": "RRF term, dense", "rrf_bm25": "RRF term, BM25", "first_stage_rank": "first-stage rank",
    "sentence": "best sentence cosine", "maxsim": "MaxSim", "cross_encoder": "cross-encoder", "rerank": "rerank score",
}


def highlighted_html(text: str, why: Explanation) -> str:
    """The chunk text, escaped, with BM25 terms in <mark> (weight in the tooltip) and the closest sentence shaded."""
    weight = dict(why.terms)
    cuts = {0, len(text)} | {a for a, _, _ in why.term_spans} | {b for _, b, _ in why.term_spans}
    if why.best_span:
        cuts |= set(why.best_span)
    term_at = {a: (b, t) for a, b, t in why.term_spans}
    bounds = sorted(c for c in cuts if 0 <= c <= len(text))
    pieces = []
    for a, b in zip(bounds, bounds[1:]):
        piece = escape(text[a:b]).replace("\n", "<br>")
        if a in term_at and term_at[a][0] == b:
            term = term_at[a][1]
            piece = (f"<mark title='BM25 term “{escape(term)}”: {weight.get(term, 0.0):.2f}' "
                     f"style='background:{TERM_COLOUR};padding:0 1px'>{piece}</mark>")
        if why.best_span and why.best_span[0] <= a and b <= why.best_span[1]:
            piece = f"<span style='background:{SENTENCE_COLOUR}'>{piece}</span>"
        pieces.append(piece)
    return f"<div style='font-size:0.82rem;line-height:1.55;max-height:240px;overflow-y:auto'>{''.join(pieces)}</div>"


def terms_html(why: Explanation) -> str:
    if not why.terms:
        return "<span style='color:#6b7280;font-size:0.78rem'>no question word (after stopwords) is in this chunk</span>"
    chips = " ".join(f"<span style='background:{TERM_COLOUR};border-radius:4px;padding:0 4px'>{escape(t)} "
                     f"<b>{w:.2f}</b></span>" for t, w in why.terms)
    return f"<div style='font-size:0.78rem'>BM25 terms: {chips}</div>"


def parts_html(why: Explanation) -> str:
    """The score in parts, as a small two-column table."""
    rows = []
    for key, label in PART_LABELS.items():
        if key not in why.parts:
            continue
        value = why.parts[key]
        shown = "—" if value is None else (f"{value}" if isinstance(value, int) else f"{value:.4f}")
        rows.append(f"<tr><td style='padding:0 8px 0 0;color:#6b7280'>{label}</td><td>{shown}</td></tr>")
    hybrid = why.parts.get("rrf_dense", 0.0) + why.parts.get("rrf_bm25", 0.0)
    rows.append(f"<tr><td style='padding:0 8px 0 0;color:#6b7280'>hybrid = sum of RRF terms</td><td>{hybrid:.4f}</td></tr>")
    return f"<table style='font-size:0.76rem;border-collapse:collapse'>{''.join(rows)}</table>"


def hit_html(hit: Hit, why: Explanation, edited: bool = False) -> str:
    chunk = hit.chunk
    moved = ""
    if "first_stage_rank" in hit.details and hit.details["first_stage_rank"] != hit.rank:
        old = hit.details["first_stage_rank"]
        colour = UP if old > hit.rank else DOWN
        moved = f" <span style='color:{colour}'>(was #{old})</span>"
    flag = " · <b style='color:#b45309'>✎ edited</b>" if edited else ""
    head = (f"<div style='font-size:0.85rem'><b>#{hit.rank}</b>{moved} · score {hit.score:.3f} · "
            f"<b>{escape(chunk.doc_name)}</b> chunk #{chunk.index}{flag}</div>")
    return head + terms_html(why) + highlighted_html(chunk.text, why) + parts_html(why)


def slope_chart(before: list[Hit], after: list[Hit], label=lambda h: f"{h.chunk.doc_name} #{h.chunk.index}") -> go.Figure:
    """Lines from each chunk's first-stage rank (left) to its reranked rank (right)."""
    fig = go.Figure()
    for hit in after:
        old = hit.details.get("first_stage_rank", hit.rank)
        colour = UP if old > hit.rank else DOWN if old < hit.rank else SAME
        name = escape(label(hit))
        fig.add_scatter(x=["first stage", "reranked"], y=[old, hit.rank], mode="lines+markers+text",
                        text=[f"#{old}", f"#{hit.rank} {name}"], textposition=["middle left", "middle right"],
                        line=dict(color=colour, width=3), marker=dict(size=9), name=name, showlegend=False,
                        hovertemplate=f"{name}: #{old} → #{hit.rank}<extra></extra>")
    kept = {(h.chunk.doc_id, h.chunk.index) for h in after}
    for hit in before:
        if (hit.chunk.doc_id, hit.chunk.index) not in kept:  # pushed out of the top k
            fig.add_scatter(x=["first stage"], y=[hit.rank], mode="markers+text", text=[f"#{hit.rank} ↓ out"],
                            textposition="middle left", marker=dict(size=9, color=DOWN), showlegend=False,
                            hovertemplate=f"{escape(label(hit))}: left the top {len(after)}<extra></extra>")
    depth = max([h.details.get("first_stage_rank", h.rank) for h in after] + [len(before), 1])
    fig.update_layout(height=60 + 34 * depth, margin=dict(t=10, b=20, l=60, r=260),
                      yaxis=dict(autorange="reversed", title="rank", dtick=1), xaxis=dict(range=[-0.4, 1.2]))
    return fig


def chunk_moves(moves, depth: int) -> list[str]:
    """Markdown lines from ``core.rag.rerank.rank_moves``: each edited chunk's rank before and after the edit."""
    lines = []
    for chunk, before, after in moves:
        shown = [f"#{r}" if r else f"not in the top {depth}" for r in (before, after)]
        lines.append(f"✎ **{escape(chunk.doc_name)} #{chunk.index}**: {shown[0]} before the edit → **{shown[1]}** "
                     "after it, for your question.")
    return lines
