"""Render-only views of the Retrieval page: hit cards and charts built from plain data.

Each function takes what it shows as arguments (hits, rows, scores) and returns
HTML or a figure; none reads session state, so each can be tried on its own.
"""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from core.rag.documents import Document
from core.rag.index import MODES
from core.rag.index import Hit
from ui.rag_views import MODE_COLOURS, bar_html, context_html, page_of
from ui.widgets import escape

METRICS = {"hit_at_1": "hit@1", "hit_at_5": "hit@5", "mrr": "MRR", "ndcg_at_5": "nDCG@5"}


def rank_badges(chunk_key, ranks: dict[str, dict]) -> str:
    """Which of the three lists hold this chunk, at which rank: the overlap marker."""
    out = []
    for mode in MODES:
        rank = ranks[mode].get(chunk_key)
        style = (f"background:{MODE_COLOURS[mode]};color:white" if rank else "background:#f3f4f6;color:#9ca3af")
        label = f"{mode} #{rank}" if rank else f"not in {mode}"
        out.append(f"<span style='{style};border-radius:4px;padding:0 4px;font-size:0.72rem'>{label}</span>")
    return " ".join(out)


def hit_card(hit: Hit, doc: Document, ranks: dict[str, dict], bm25_max: float, relevant: bool | None) -> str:
    """One hit: rank, score, where it sits in ``doc``, its rank in each list, its two scores and its context.

    ``relevant`` is whether the chunk holds the answer (None when the question has no known answer).
    """
    chunk = hit.chunk
    cosine, bm25 = hit.details.get("dense", 0.0), hit.details.get("bm25", 0.0)
    verdict = "" if relevant is None else (" · ✅ holds the answer" if relevant else " · ✗ not the answer")
    page = page_of(doc, chunk.start)
    where = f"page {page}, " if page else ""
    head = (f"<div style='font-size:0.85rem'><b>#{hit.rank}</b> · score {hit.score:.3f} · <b>{escape(chunk.doc_name)}"
            f"</b> chunk #{chunk.index} ({where}characters {chunk.start}–{chunk.end}){verdict}</div>")
    bars = (bar_html("cosine", cosine, cosine, MODE_COLOURS["dense"])
            + bar_html("BM25", bm25, bm25 / bm25_max if bm25_max > 0 else 0.0, MODE_COLOURS["bm25"]))
    return (head + f"<div style='margin:2px 0 4px'>{rank_badges((chunk.doc_id, chunk.index), ranks)}</div>"
            + bars + context_html(doc.text, chunk))


def index_chart(rows: Sequence[dict], k: int) -> go.Figure:
    """Recall@k (bars) and median latency (line, right axis) per index kind, from ``index_recall`` rows."""
    chart = go.Figure()
    chart.add_bar(x=[r["kind"] for r in rows], y=[r["recall_at_k"] for r in rows], name=f"recall@{k}",
                  marker_color="#2f6fdf", yaxis="y")
    chart.add_scatter(x=[r["kind"] for r in rows], y=[r["p50_ms"] for r in rows], name="median ms",
                      mode="markers+lines", marker=dict(size=12, color="#ea580c"), yaxis="y2")
    chart.update_layout(height=300, margin=dict(t=10, b=30, l=40, r=40),
                        yaxis=dict(title=f"recall@{k}", range=[0, 1.05]),
                        yaxis2=dict(title="median ms per question", overlaying="y", side="right", rangemode="tozero"),
                        legend=dict(orientation="h"))
    return chart


def index_table(rows: Sequence[dict], k: int) -> list[dict]:
    """``index_recall`` rows as the table shows them (rounded, readable column names)."""
    return [{"index": r["kind"], f"recall@{k}": round(r["recall_at_k"], 3), "median ms / question": round(r["p50_ms"], 4),
             "p95 ms": round(r["p95_ms"], 4), "build ms": round(r["build_s"] * 1000, 2)} for r in rows]


def sweep_chart(rows: Sequence[dict], unit: str) -> go.Figure:
    """hit@1, hit@5 and MRR against the chunk size, from ``chunk_size_sweep`` rows."""
    fig = go.Figure()
    for column, colour in (("hit_at_1", "#2f6fdf"), ("hit_at_5", "#16a34a"), ("mrr", "#ea580c")):
        fig.add_scatter(x=[r["size"] for r in rows], y=[r[column] for r in rows], name=METRICS[column],
                        mode="lines+markers", line=dict(color=colour), customdata=[r["n_chunks"] for r in rows],
                        hovertemplate="size %{x}: %{y:.2f} (%{customdata} chunks)<extra></extra>")
    fig.update_layout(height=320, margin=dict(t=10, b=40, l=40, r=10), yaxis=dict(range=[0, 1.05]),
                      xaxis_title=f"chunk size ({unit})", legend=dict(orientation="h"))
    return fig


def scores_table(evaluation: dict) -> list[dict]:
    """One row per retriever from ``{mode: (scores, details)}``."""
    return [{"retriever": mode, **{label: round(getattr(s, name), 3) for name, label in METRICS.items()},
             "questions": s.n} for mode, (s, _) in evaluation.items()]


def scores_chart(evaluation: dict) -> go.Figure:
    """The four retrieval metrics, grouped by retriever, from ``{mode: (scores, details)}``."""
    bars = go.Figure()
    for mode in MODES:
        s = evaluation[mode][0]
        bars.add_bar(x=list(METRICS.values()), y=[getattr(s, name) for name in METRICS], name=mode,
                     marker_color=MODE_COLOURS[mode])
    bars.update_layout(barmode="group", height=300, margin=dict(t=10, b=30, l=40, r=10), yaxis=dict(range=[0, 1.05]),
                       legend=dict(orientation="h"))
    return bars
