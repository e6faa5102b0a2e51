"""Render-only views of the Documents page: the file status table, chunk lengths, chunk tables and cut marks."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from core.rag.chunking import Chunk
from core.rag.documents import ENCODING_LABELS, Document
from ui.rag_views import page_of, preview

RUN_COLOURS = ("#2f6fdf", "#ea580c")


def status_rows(docs: Sequence[Document], errors: dict[str, str]) -> list[dict]:
    """One row per file: read documents (with any warning), then the files that could not be read."""
    rows = []
    for doc in docs:
        warning = doc.metadata.get("warning")
        rows.append({"file": doc.name, "type": doc.metadata.get("type", ""), "characters": len(doc.text),
                     "pages": doc.metadata.get("pages"),
                     "encoding": ENCODING_LABELS.get(doc.metadata.get("encoding"), doc.metadata.get("encoding") or ""),
                     "status": f"⚠️ {warning}" if warning else "✅ read"})
    rows += [{"file": name, "type": name.rsplit(".", 1)[-1] if "." in name else "", "characters": None,
              "pages": None, "encoding": None, "status": f"❌ {message}"} for name, message in errors.items()]
    return rows


def length_histogram(lengths: Sequence[int], max_tokens: int) -> go.Figure:
    """Chunk lengths in embedder tokens; the ones the embedder cuts off are red, right of its limit."""
    fig = go.Figure()
    fig.add_histogram(x=[n for n in lengths if n <= max_tokens], name="fits", marker_color="#2f6fdf", nbinsx=40)
    over = [n for n in lengths if n > max_tokens]
    if over:
        fig.add_histogram(x=over, name="truncated", marker_color="#dc2626", nbinsx=20)
    fig.add_vline(x=max_tokens, line_dash="dash", line_color="#dc2626",
                  annotation_text=f"embedder reads {max_tokens} tokens", annotation_position="top right")
    fig.update_layout(barmode="overlay", height=300, margin=dict(t=30, b=40, l=40, r=10),
                      xaxis_title="chunk length (embedder tokens)", yaxis_title="chunks")
    return fig


def chunk_rows(chunks: Sequence[Chunk], by_id: dict[str, Document], max_tokens: int) -> list[dict]:
    """The "All chunks" table: where each chunk is, its length, whether it is truncated, and a preview."""
    return [{"document": c.doc_name, "index": c.index, "page": page_of(by_id[c.doc_id], c.start), "start": c.start,
             "end": c.end, "n_tokens": c.n_tokens, "truncated": c.n_tokens > max_tokens, "preview": preview(c.text)}
            for c in chunks]


def chunk_starts_figure(runs: dict[str, Sequence[Chunk]], doc_name: str, doc_length: int) -> go.Figure:
    """One row of ticks per chunking run, a tick where each chunk starts: shared cuts line up."""
    strip = go.Figure()
    for (label, cs), colour in zip(runs.items(), RUN_COLOURS):
        strip.add_scatter(x=[c.start for c in cs], y=[label] * len(cs), mode="markers", name=label,
                          marker=dict(symbol="line-ns-open", size=22, line_width=2, color=colour),
                          hovertext=[f"chunk #{c.index}: characters {c.start}–{c.end}, {c.n_tokens} tokens" for c in cs],
                          hoverinfo="text")
    strip.update_layout(height=200, margin=dict(t=10, b=40, l=10, r=10), showlegend=False,
                        xaxis=dict(title=f"where each chunk starts (character offset in {doc_name})",
                                   range=[0, max(doc_length, 1)]))
    return strip
