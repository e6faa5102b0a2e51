"""Documents & chunking: upload or pick documents, split them, and see exactly where the cuts fall."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.chunking import STRATEGIES, UNITS, ChunkConfig
from core.documents import ENCODING_LABELS
from core.errors import ConfigError, DocumentError
from ui.rag_views import (
    chars_per_token, chunk_corpus, chunk_doc_cached, legend_html, page_of, paint_chunks, preview, unit_mismatch_note,
)
from ui.resources import get_embedder
from ui.state import UPLOADS, current_corpus, current_documents, delete_upload, save_upload, uploaded_documents
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

CHUNKS_PER_PAGE = 25  # painted chunks per page: keeps a 100-page PDF responsive
UPLOAD_TYPES = ["txt", "md", "pdf", "docx", "html", "htm"]
STRATEGY_HELP = {
    "characters": "fixed windows of N characters, cut anywhere (even mid-word)",
    "tokens": "fixed windows of N embedder tokens, cut anywhere",
    "sentences": "whole sentences packed up to N",
    "recursive": "paragraphs, then lines, then sentences, then words: the biggest piece that fits N",
    "markdown": "like recursive, but cuts at Markdown headings first",
    "semantic": "whole sentences; a new chunk starts where the topic shifts (embedding similarity drops)",
}
ss = st.session_state

st.title("Documents & chunking")
st.markdown(
    "RAG cannot search a whole document at once: it first **cuts it into chunks**, and each chunk becomes one "
    "searchable unit. Where the cuts fall decides what the search can find. A fact split across two chunks "
    "may be found by neither; a chunk longer than the embedding model reads is silently **truncated**."
)


# --- uploads ----------------------------------------------------------------------

def _on_upload() -> None:
    """Save files that are new in the uploader (a callback, so it can switch the sidebar's corpus)."""
    saved, errors = ss.setdefault("doc_saved_files", set()), ss.setdefault("doc_upload_errors", {})
    new = [f for f in ss.get("doc_upload") or [] if f.file_id not in saved]
    for file in new:
        saved.add(file.file_id)
        try:
            save_upload(file.name, file.getvalue())
            errors.pop(file.name, None)
        except DocumentError as exc:
            errors[file.name] = str(exc)
    if new:
        ss["corpus"] = UPLOADS


def _use_uploads() -> None:
    ss["corpus"] = UPLOADS


def _dismiss(name: str) -> None:
    ss.get("doc_upload_errors", {}).pop(name, None)


with st.expander("📤 Upload your own documents", expanded=current_corpus() is None):
    st.file_uploader("Text, Markdown, PDF, Word or HTML files", type=UPLOAD_TYPES, accept_multiple_files=True,
                     key="doc_upload", on_change=_on_upload,
                     help="Files stay in this session's private workspace folder until you delete them.")
    if current_corpus() is not None:
        st.button("Use my uploads as the corpus", key="doc_use_uploads", on_click=_use_uploads)


def _status_rows(docs, errors: dict[str, str]) -> list[dict]:
    rows = []
    for doc in docs:
        warning = doc.metadata.get("warning")
        rows.append({"file": doc.name, "type": doc.metadata.get("type", ""), "characters": len(doc.text),
                     "pages": doc.metadata.get("pages"),
                     "encoding": ENCODING_LABELS.get(doc.metadata.get("encoding"), doc.metadata.get("encoding") or ""), "status": f"⚠️ {warning}" if warning else "✅ read"})
    rows += [{"file": name, "type": name.rsplit(".", 1)[-1] if "." in name else "", "characters": None,
              "pages": None, "encoding": None, "status": f"❌ {message}"} for name, message in errors.items()]
    return rows


corpus = current_corpus()
if corpus is None:
    docs, load_errors = uploaded_documents()
    errors = {**load_errors, **ss.get("doc_upload_errors", {})}
    st.subheader("📤 My uploads")
else:
    docs, errors = current_documents(), {}
    st.subheader(f"📚 {corpus.title}")
    st.caption(corpus.description)

if docs or errors:
    st.dataframe(pd.DataFrame(_status_rows(docs, errors)), hide_index=True, width="stretch")
for message in errors.values():  # each message already names its file and says what to do
    st.error(message, icon="❌")
for doc in docs:
    if doc.metadata.get("warning"):
        st.warning(doc.metadata["warning"], icon="⚠️")
if corpus is None:
    stored = [d.name for d in docs] + [n for n in load_errors]
    rejected = [n for n in ss.get("doc_upload_errors", {}) if n not in stored]
    cols = st.columns(4)
    for i, name in enumerate(stored):
        cols[i % 4].button(f"🗑 Delete {name}", key=f"doc_del_{i}", on_click=delete_upload, args=(name,))
    for j, name in enumerate(rejected):
        cols[(len(stored) + j) % 4].button(f"✖ Dismiss {name}", key=f"doc_dismiss_{j}", on_click=_dismiss, args=(name,))
if not docs:
    st.info("No documents yet. Upload files above, or pick a sample corpus in the sidebar.")
    st.stop()


# --- chunking controls -------------------------------------------------------------

st.header("1 · Split into chunks")
current: ChunkConfig = ss["chunk_config"]
for key, value in (("doc_strategy", current.strategy), ("doc_size", current.size), ("doc_overlap", current.overlap),
                   ("doc_unit", current.unit), ("doc_semantic_pct", current.semantic_percentile)):
    ss.setdefault(key, value)
if ss["doc_strategy"] in ("characters", "tokens"):
    ss["doc_unit"] = ss["doc_strategy"]  # the fixed strategies define their own unit

c1, c2, c3, c4 = st.columns([2, 1, 1, 1.4])
strategy = c1.selectbox("Strategy", STRATEGIES, key="doc_strategy",
                        format_func=lambda s: f"{s} — {STRATEGY_HELP[s]}")
size = c2.number_input("Chunk size", min_value=1, max_value=20000, step=16, key="doc_size")
overlap = c3.number_input("Overlap", min_value=0, max_value=20000, step=8, key="doc_overlap",
                          help="How much of the end of one chunk is repeated at the start of the next.")
unit = c4.radio("Unit", UNITS, key="doc_unit", horizontal=True, disabled=strategy in ("characters", "tokens"),
                help="Tokens are what the embedding model counts; the fixed strategies define their own unit.")
percentile = ss["doc_semantic_pct"]
if strategy == "semantic":
    percentile = st.slider("Split at the weakest x % of sentence-to-sentence links", 1.0, 99.0, key="doc_semantic_pct")

try:
    config = ChunkConfig(strategy, int(size), int(overlap), unit, float(percentile))
except ConfigError as exc:
    st.error(f"{exc}. The other pages keep using the previous settings ({current.strategy}, size {current.size}, "
             f"overlap {current.overlap}).")
    config = current
else:
    ss["chunk_config"] = config

embedder = get_embedder(ss["embedder_name"])
max_tokens = embedder.max_seq_length
with st.spinner(f"Chunking {len(docs)} document(s)…"):
    chunks = chunk_corpus(docs, config)

lengths = [c.n_tokens for c in chunks]
truncated = [c for c in chunks if c.n_tokens > max_tokens]
m1, m2, m3, m4 = st.columns(4)
m1.metric("Documents", len(docs))
m2.metric("Chunks", len(chunks))
m3.metric("Median length", f"{statistics.median(lengths):.0f} tokens" if lengths else "–")
m4.metric("Truncated by the embedder", len(truncated), help=f"Chunks longer than {max_tokens} tokens: "
          f"{embedder.name} only reads the first {max_tokens}, the rest is invisible to search.")


# --- length distribution -----------------------------------------------------------

st.subheader("How long are the chunks?")
fig = go.Figure()
fig.add_histogram(x=[n for n in lengths if n <= max_tokens], name="fits", marker_color="#2f6fdf", nbinsx=40)
if truncated:
    fig.add_histogram(x=[c.n_tokens for c in truncated], name="truncated", marker_color="#dc2626", nbinsx=20)
fig.add_vline(x=max_tokens, line_dash="dash", line_color="#dc2626",
              annotation_text=f"embedder reads {max_tokens} tokens", annotation_position="top right")
fig.update_layout(barmode="overlay", height=300, margin=dict(t=30, b=40, l=40, r=10),
                  xaxis_title="chunk length (embedder tokens)", yaxis_title="chunks")
st.plotly_chart(fig, key="doc_hist")
if truncated:
    st.warning(f"{len(truncated)} chunk(s) are longer than the {max_tokens} tokens {embedder.name} reads: their "
               f"ends are cut off before embedding (outlined red below). Lower the chunk size, or use tokens as the unit.")
else:
    st.caption(f"Every chunk fits in the {max_tokens} tokens the embedder reads.")


# --- painted document --------------------------------------------------------------

st.subheader("Chunks painted over the text")
by_id = {d.id: d for d in docs}
focus = ss.pop("doc_focus", None)  # "Show it in its document" under an answer's source
focused = None
if focus:
    focused = next((d for d in docs if d.name == focus["document"]), None)
    if focused is not None:
        ss["doc_pick"] = focused.id
    else:
        st.warning(f"`{focus['document']}` is not in the current documents any more (the corpus changed).")
if ss.get("doc_pick") not in by_id:
    ss["doc_pick"] = docs[0].id
doc = by_id[st.selectbox("Document", list(by_id), key="doc_pick", format_func=lambda i: by_id[i].name)]
doc_chunks = [c for c in chunks if c.doc_id == doc.id]
n_pages = max(1, -(-len(doc_chunks) // CHUNKS_PER_PAGE))
if not 1 <= ss.get("doc_page", 1) <= n_pages:
    ss["doc_page"] = 1
if focused is not None:  # open the page of chunks that holds the answer's source, and say which it is
    at = next((i for i, c in enumerate(doc_chunks) if c.start <= focus["start"] < c.end), 0)
    ss["doc_page"] = at // CHUNKS_PER_PAGE + 1
    st.info(f"The answer's source: `{focused.name}`, characters {focus['start']:,}–{focus['end']:,} "
            f"(chunk #{doc_chunks[at].index if doc_chunks else 0}, painted below).")
page = 1
if n_pages > 1:
    page = st.number_input(f"Page of chunks ({CHUNKS_PER_PAGE} per page, {n_pages} pages)", 1, n_pages, key="doc_page")
shown = doc_chunks[(page - 1) * CHUNKS_PER_PAGE: page * CHUNKS_PER_PAGE]
st.caption(f"{doc.name}: {len(doc.text):,} characters → {len(doc_chunks)} chunks"
           + (f"; showing chunks #{shown[0].index}–#{shown[-1].index}" if shown else ""))
st.html(legend_html())
st.html(paint_chunks(doc.text, shown, max_tokens))


# --- table and downloads -------------------------------------------------------------

st.subheader("All chunks")
table = pd.DataFrame([{"document": c.doc_name, "index": c.index, "page": page_of(by_id[c.doc_id], c.start),
                       "start": c.start, "end": c.end, "n_tokens": c.n_tokens, "truncated": c.n_tokens > max_tokens,
                       "preview": preview(c.text)} for c in chunks])
st.dataframe(table, hide_index=True, width="stretch", height=300)
d1, d2, _ = st.columns([1, 1, 3])
# Callables: the files are built only when a button is pressed, not on every rerun.
d1.download_button("⬇ Chunks as CSV", lambda: pd.DataFrame([asdict(c) for c in chunks]).to_csv(index=False).encode(),
                   "chunks.csv", "text/csv", key="doc_dl_csv")
d2.download_button("⬇ Chunks as JSON", lambda: json.dumps({"config": config.to_dict(), "chunks": [asdict(c) for c in chunks]},
                   ensure_ascii=False, indent=1).encode(), "chunks.json", "application/json", key="doc_dl_json")


# --- compare two strategies ----------------------------------------------------------

st.header("2 · Compare two strategies on the same document")
others = [s for s in STRATEGIES if s != config.strategy]
ss.setdefault("doc_cmp_strategy", others[0])
ss.setdefault("doc_cmp_size", config.size)
k1, k2 = st.columns(2)
other_strategy = k1.selectbox("Compare with", STRATEGIES, key="doc_cmp_strategy")
other_size = k2.number_input("Its chunk size", min_value=1, max_value=20000, step=16, key="doc_cmp_size")
try:
    other = ChunkConfig(other_strategy, int(other_size), min(config.overlap, int(other_size) - 1), config.unit,
                        config.semantic_percentile)
except ConfigError as exc:
    st.error(str(exc))
    st.stop()

if note := unit_mismatch_note(config, other, chars_per_token(doc_chunks)):
    st.info(note)
with st.spinner("Chunking with the second strategy…"):
    other_chunks = chunk_doc_cached(doc.id, other.to_dict(), ss["embedder_name"], doc)
runs = {f"A: {config.strategy} {config.size} {config.unit}": doc_chunks,
        f"B: {other.strategy} {other.size} {other.unit}": other_chunks}
summary = pd.DataFrame([{"run": label, "chunks": len(cs),
                         "mean tokens": round(statistics.mean(c.n_tokens for c in cs), 1) if cs else 0,
                         "median tokens": statistics.median(c.n_tokens for c in cs) if cs else 0,
                         "max tokens": max((c.n_tokens for c in cs), default=0),
                         "truncated": sum(c.n_tokens > max_tokens for c in cs)} for label, cs in runs.items()])
st.dataframe(summary, hide_index=True, width="stretch")
strip = go.Figure()
for (label, cs), colour in zip(runs.items(), ("#2f6fdf", "#ea580c")):
    strip.add_scatter(x=[c.start for c in cs], y=[label] * len(cs), mode="markers", name=label,
                      marker=dict(symbol="line-ns-open", size=22, line_width=2, color=colour),
                      hovertext=[f"chunk #{c.index}: characters {c.start}–{c.end}, {c.n_tokens} tokens" for c in cs],
                      hoverinfo="text")
strip.update_layout(height=200, margin=dict(t=10, b=40, l=10, r=10), showlegend=False,
                    xaxis=dict(title=f"where each chunk starts (character offset in {doc.name})",
                               range=[0, max(len(doc.text), 1)]))
st.plotly_chart(strip, key="doc_strip")
st.caption("Each tick is where a chunk starts. Ticks that line up are cuts both strategies agree on; fixed-size "
           "strategies tick at regular intervals, sentence-aware ones follow the text.")
