"""Documents & chunking: upload or pick documents, split them, and see exactly where the cuts fall."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict

import pandas as pd
import streamlit as st

from core.rag.chunking import STRATEGIES, UNITS, ChunkConfig, chunk_stats
from core.errors import ConfigError
from ui.document_views import chunk_rows, chunk_starts_figure, length_histogram
from ui.rag_views import chars_per_token, legend_html, paint_chunks, unit_mismatch_note
from ui.resources import chunk_doc_cached
from ui.session_resources import chunk_corpus
from ui.numbers import number_box
from ui.progress import cost_note, waiting
from ui.question_sections import question_bank_section
from ui.state import current_corpus
from ui.resources import get_embedder
from ui.uploads import documents_section
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

CHUNKS_PER_PAGE = 25  # painted chunks per page: keeps a 100-page PDF responsive
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


docs = documents_section()  # uploads (or the sample corpus), each file's status
if not docs:
    st.info("No documents yet. Upload files above, or pick a sample corpus in the sidebar.")
    st.stop()


# --- chunking controls -------------------------------------------------------------

st.header("1 · Split into chunks")
n_kchars = max(1, sum(len(d.text) for d in docs) // 1000)  # what chunking time scales with (semantic embeds it all)
current: ChunkConfig = ss["chunk_config"]
# Each box starts at the session's setting (index=, or number_box's seed), not at its first option or its minimum: a
# refreshed page (F5 on ?sid=…) or a remounted box must never show, or send back, a chunk size of 1.
if ss.get("doc_strategy", current.strategy) in ("characters", "tokens") and \
        ss.get("doc_unit", current.unit) != ss.get("doc_strategy", current.strategy):
    ss["doc_unit"] = ss["doc_strategy"]  # the fixed strategies define their own unit

c1, c2, c3, c4 = st.columns([2, 1, 1, 1.4])
strategy = c1.selectbox("Strategy", STRATEGIES, index=STRATEGIES.index(current.strategy), key="doc_strategy",
                        format_func=lambda s: f"{s} — {STRATEGY_HELP[s]}")
size = number_box(c2, "Chunk size", 1, 20000, "doc_size", current.size, step=16)
overlap = number_box(c3, "Overlap", 0, 20000, "doc_overlap", current.overlap, step=8,
                     help="How much of the end of one chunk is repeated at the start of the next.")
unit = c4.radio("Unit", UNITS, index=UNITS.index(current.unit), key="doc_unit", horizontal=True,
                disabled=strategy in ("characters", "tokens"),
                help="Tokens are what the embedding model counts; the fixed strategies define their own unit.")
c1.caption(f"⏳ semantic embeds every sentence of these documents first: {cost_note('chunk semantic', n_kchars)}.")
percentile = ss.get("doc_semantic_pct", current.semantic_percentile)
if strategy == "semantic":
    percentile = st.slider("Split at the weakest x % of sentence-to-sentence links", 1.0, 99.0,
                           float(current.semantic_percentile), key="doc_semantic_pct")

try:
    if size is None or overlap is None:
        raise ConfigError("A chunk setting above is not valid (see its message)")
    config = ChunkConfig(strategy, size, overlap, unit, float(percentile))
except ConfigError as exc:
    st.error(f"{exc}. The other pages keep using the previous settings ({current.strategy}, size {current.size}, "
             f"overlap {current.overlap}).")
    config = current
else:
    ss["chunk_config"] = config

embedder = get_embedder(ss["embedder_name"])
max_tokens = embedder.max_seq_length
with waiting(f"chunk {config.strategy}", f"Chunking {len(docs)} document(s) ({config.strategy})", n_kchars):
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
st.plotly_chart(length_histogram(lengths, max_tokens), key="doc_hist")
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
    page = number_box(st, f"Page of chunks ({CHUNKS_PER_PAGE} per page, {n_pages} pages)", 1, n_pages, "doc_page", 1) or 1
shown = doc_chunks[(page - 1) * CHUNKS_PER_PAGE: page * CHUNKS_PER_PAGE]
st.caption(f"{doc.name}: {len(doc.text):,} characters → {len(doc_chunks)} chunks"
           + (f"; showing chunks #{shown[0].index}–#{shown[-1].index}" if shown else ""))
st.html(legend_html())
st.html(paint_chunks(doc.text, shown, max_tokens))


# --- table and downloads -------------------------------------------------------------

st.subheader("All chunks")
table = pd.DataFrame(chunk_rows(chunks, by_id, max_tokens))
st.dataframe(table, hide_index=True, width="stretch", height=300)
d1, d2, _ = st.columns([1, 1, 3])
# Callables: the files are built only when a button is pressed, not on every rerun.
d1.download_button("⬇ Chunks as CSV", lambda: pd.DataFrame([asdict(c) for c in chunks]).to_csv(index=False).encode(),
                   "chunks.csv", "text/csv", key="doc_dl_csv")
d2.download_button("⬇ Chunks as JSON", lambda: json.dumps({"config": config.to_dict(), "chunks": [asdict(c) for c in chunks]},
                   ensure_ascii=False, indent=1).encode(), "chunks.json", "application/json", key="doc_dl_json")


# --- questions about these documents -------------------------------------------------

if current_corpus() is None or current_corpus().qa_path is None:  # a sample corpus with its own Q&A set needs none
    question_bank_section(docs, chunks, prefix="doc")


# --- compare two strategies ----------------------------------------------------------

st.header("2 · Compare two strategies on the same document")
others = [s for s in STRATEGIES if s != config.strategy]
ss.setdefault("doc_cmp_strategy", others[0])
k1, k2 = st.columns(2)
other_strategy = k1.selectbox("Compare with", STRATEGIES, key="doc_cmp_strategy")
other_size = number_box(k2, "Its chunk size", 1, 20000, "doc_cmp_size", config.size, step=16)
if other_size is None:
    st.stop()
try:
    other = ChunkConfig(other_strategy, other_size, min(config.overlap, other_size - 1), config.unit,
                        config.semantic_percentile)
except ConfigError as exc:
    st.error(str(exc))
    st.stop()

if note := unit_mismatch_note(config, other, chars_per_token(doc_chunks)):
    st.info(note)
with waiting(f"chunk {other.strategy}", f"Chunking with {other.strategy}", max(1, len(doc.text) // 1000)):
    other_chunks = chunk_doc_cached(doc.id, other.to_dict(), ss["embedder_name"], doc)
runs = {f"A: {config.strategy} {config.size} {config.unit}": doc_chunks,
        f"B: {other.strategy} {other.size} {other.unit}": other_chunks}
summary = pd.DataFrame([{"run": label, **chunk_stats(cs, max_tokens)} for label, cs in runs.items()])
st.dataframe(summary, hide_index=True, width="stretch")
st.plotly_chart(chunk_starts_figure(runs, doc.name, len(doc.text)), key="doc_strip")
st.caption("Each tick is where a chunk starts. Ticks that line up are cuts both strategies agree on; fixed-size "
           "strategies tick at regular intervals, sentence-aware ones follow the text.")
