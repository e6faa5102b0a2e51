"""Render-only pieces of the three RAG pages (documents, embeddings, retrieval): HTML builders and notes.

The session's documents, chunks and retriever come from ``ui.session_resources``. Every piece of document text goes through
``escape`` before it is wrapped in markup, so an uploaded ``<script>`` is shown
as text, never run.
"""

from __future__ import annotations

import bisect
from typing import Sequence

from core.rag.chunking import Chunk, ChunkConfig
from core.rag.documents import Document
from ui.widgets import escape

# Two alternating chunk colours and a third for text that two chunks share.
CHUNK_COLOURS = ("#dbeafe", "#dcfce7")
OVERLAP_COLOUR = "#fde68a"
TRUNCATED_BORDER = "#dc2626"
MODE_COLOURS = {"dense": "#2f6fdf", "bm25": "#16a34a", "hybrid": "#ea580c"}
MODE_LABELS = {"dense": "Dense (embeddings)", "bm25": "BM25 (keywords)", "hybrid": "Hybrid (RRF)"}


def page_of(doc: Document, offset: int) -> int | None:
    """The 1-based PDF page a character offset falls on (None for documents without pages)."""
    starts = doc.metadata.get("page_starts")
    return bisect.bisect_right(starts, offset) if starts else None


def preview(text: str, n: int = 120) -> str:
    """One line of at most ``n`` characters (for tables and hover text)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def hover(text: str, n: int = 160) -> str:
    """Escaped preview for plotly hover labels (plotly renders a subset of HTML)."""
    return escape(preview(text, n))


# --- HTML builders ------------------------------------------------------------------

def _text_html(text: str) -> str:
    """Escaped text with line breaks kept (no blank lines, so markdown never re-parses it)."""
    return escape(text).replace("\n", "<br>")


def paint_chunks(text: str, chunks: Sequence[Chunk], max_tokens: int | None = None) -> str:
    """HTML of ``text`` with each chunk's span painted (alternating colours), overlaps marked.

    ``chunks`` must be from ``text`` and in order. Text covered by two chunks gets
    the overlap colour and a dashed underline; chunks over ``max_tokens`` get a red
    outline. A numbered badge marks where each chunk starts.
    """
    if not chunks:  # nothing to paint: show the start of the text only (a long document stays light)
        return f"<div style='color:#9ca3af'>{_text_html(text[:5000])}</div>"
    lo, hi = chunks[0].start, max(c.end for c in chunks)
    cuts = sorted({lo, hi} | {c.start for c in chunks} | {c.end for c in chunks})
    starts = {c.start: c for c in chunks}
    parts = []
    for a, b in zip(cuts, cuts[1:]):
        covering = [c for c in chunks if c.start <= a and b <= c.end]
        if a in starts:
            parts.append(_badge(starts[a], max_tokens))
        parts.append(_segment(text[a:b], covering, max_tokens))
    style = "font-family:ui-monospace,monospace;font-size:0.85rem;line-height:1.7;max-height:520px;overflow-y:auto;" \
            "border:1px solid #e5e7eb;border-radius:6px;padding:8px"
    return f"<div style='{style}'>{''.join(parts)}</div>"


def _badge(chunk: Chunk, max_tokens: int | None) -> str:
    over = max_tokens is not None and chunk.n_tokens > max_tokens
    colour = TRUNCATED_BORDER if over else "#374151"
    flag = " ⚠ truncated" if over else ""
    return (f"<sup style='background:{colour};color:white;border-radius:4px;padding:0 3px;font-size:0.7rem'>"
            f"#{chunk.index} · {chunk.n_tokens} tok{flag}</sup>")


def _segment(piece: str, covering: list[Chunk], max_tokens: int | None) -> str:
    if not covering:
        return f"<span style='color:#9ca3af'>{_text_html(piece)}</span>"
    if len(covering) > 1:
        style = f"background:{OVERLAP_COLOUR};text-decoration:underline dashed #b45309"
        title = "overlap of chunks " + " & ".join(f"#{c.index}" for c in covering)
    else:
        style = f"background:{CHUNK_COLOURS[covering[0].index % 2]}"
        title = f"chunk #{covering[0].index}"
    if max_tokens is not None and any(c.n_tokens > max_tokens for c in covering):
        style += f";outline:1px solid {TRUNCATED_BORDER}"
    return f"<span title='{escape(title)}' style='{style}'>{_text_html(piece)}</span>"


def legend_html() -> str:
    swatch = "<span style='background:{};padding:0 6px;border-radius:3px'>{}</span>"
    return " ".join([
        swatch.format(CHUNK_COLOURS[0], "even chunk"), swatch.format(CHUNK_COLOURS[1], "odd chunk"),
        swatch.format(OVERLAP_COLOUR, "<u>overlap (in two chunks)</u>"),
        f"<span style='outline:1px solid {TRUNCATED_BORDER};padding:0 4px'>longer than the embedder reads</span>",
        "<span style='color:#9ca3af'>grey: in no chunk (whitespace)</span>",
    ])


def context_html(doc_text: str, chunk: Chunk, margin: int = 160) -> str:
    """The chunk in bold inside a little of the text before and after it (all escaped)."""
    before_start = max(0, chunk.start - margin)
    after_end = min(len(doc_text), chunk.end + margin)
    before = ("…" if before_start > 0 else "") + doc_text[before_start:chunk.start]
    after = doc_text[chunk.end:after_end] + ("…" if after_end < len(doc_text) else "")
    return (f"<div style='font-size:0.82rem;line-height:1.5;color:#6b7280;max-height:260px;overflow-y:auto'>"
            f"{_text_html(before)}<b style='color:#111827;background:#fef9c3'>{_text_html(chunk.text)}</b>"
            f"{_text_html(after)}</div>")


def bar_html(label: str, value: float, fraction: float, colour: str) -> str:
    """A small horizontal score bar: ``fraction`` (0..1) of the width, ``value`` printed."""
    width = max(0.0, min(1.0, fraction)) * 100
    return (f"<div style='display:flex;align-items:center;gap:6px;font-size:0.78rem'>"
            f"<span style='width:70px'>{escape(label)}</span>"
            f"<span style='flex:1;background:#f3f4f6;border-radius:3px;height:10px'>"
            f"<span style='display:block;width:{width:.0f}%;background:{colour};height:10px;border-radius:3px'></span>"
            f"</span><span style='width:52px;text-align:right'>{value:.3f}</span></div>")


def unit_mismatch_note(a: ChunkConfig, b: ChunkConfig, chars_per_token: float) -> str | None:
    """Words for a comparison whose two runs count size in different units (192 tokens vs 192 characters is a
    4× size difference, not a strategy difference); None when the units agree.

    >>> unit_mismatch_note(ChunkConfig(), ChunkConfig("characters", 192, 0), 4.0)[:60]
    'Careful: B counts its size in characters, A in tokens. 192 c'
    """
    if a.unit == b.unit:
        return None
    fair = a.size * chars_per_token if b.unit == "characters" else a.size / chars_per_token
    return (f"Careful: B counts its size in {b.unit}, A in {a.unit}. {b.size} {b.unit} is not {a.size} {a.unit}, "
            f"so much of the difference below is chunk **size**, not strategy. For a fair comparison give B about "
            f"{max(1, round(fair)):,} {b.unit} (this text averages {chars_per_token:.1f} characters per token).")


def chars_per_token(chunks: Sequence[Chunk]) -> float:
    """Characters per embedder token in these chunks (about 4 for English)."""
    tokens = sum(c.n_tokens for c in chunks)
    return sum(len(c.text) for c in chunks) / tokens if tokens else 4.0
