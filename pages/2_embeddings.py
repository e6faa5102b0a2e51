"""Embedding space: every chunk is a point; a question lands among them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from core.rag.chunking import STRATEGIES
from core.errors import ConfigError, InvalidQuery
from core.rag.projection import cosine_matrix
from core.runtime.workspace import content_hash
from ui.backend_sections import backend_comparison
from ui.embedding_views import QueryOnMap, heatmap_figure, map_figure, plain_words, projection_note
from ui.progress import costs_line, waiting
from ui.rag_views import chars_per_token, unit_mismatch_note
from ui.resources import cluster_labels, fitted_projection
from ui.session_resources import documents_and_retriever
from ui.state import current_corpus, get_retriever
from ui.widgets import escape
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

METHODS = {"pca": "PCA (instant)", "umap": "UMAP", "tsne": "t-SNE"}
COLOUR_BY = {"document": "document", "cluster": "k-means cluster", "run": "chunking run (compare two configs)"}
HEAT_MAX = 40  # chunks in the within-document heatmap
ss = st.session_state

st.title("Embedding space")
st.markdown(
    "The embedding model turns every chunk into a list of numbers (a **vector**) so that chunks about the same "
    "thing get similar vectors. Below, each dot is one chunk, squeezed from hundreds of dimensions onto your "
    "screen. Type a question: it is embedded the same way and lands among the chunks it is closest to."
)


# --- data: the current chunks (and optionally a second chunking run) ------------------

docs, retriever = documents_and_retriever()
config = retriever.chunk_config

c1, c2, c3, c4 = st.columns([1.4, 0.8, 1.6, 1.4])
method = c1.radio("Projection", list(METHODS), format_func=METHODS.get, key="emb_method", horizontal=True)
dims = c2.radio("View", [2, 3], format_func=lambda d: f"{d}D", key="emb_dims", horizontal=True)
colour_by = c3.radio("Colour by", list(COLOUR_BY), format_func=COLOUR_BY.get, key="emb_colour")
chunks, vectors = list(retriever.chunks), retriever.vectors
run_a = f"A: {config.strategy} {config.size} {config.unit}"
if colour_by == "cluster":
    n_clusters = c4.slider("Clusters (k)", 2, 10, 4, key="emb_clusters")
    groups = [f"cluster {g + 1}" for g in cluster_labels(content_hash(vectors.tobytes()), n_clusters, vectors)]
elif colour_by == "run":
    other_strategy = c4.selectbox("Second run's strategy", [s for s in STRATEGIES if s != config.strategy],
                                  key="emb_cmp_strategy")
    try:
        other = replace(config, strategy=other_strategy)
    except ConfigError as exc:
        st.error(str(exc))
        st.stop()
    second = get_retriever(docs, other)
    if note := unit_mismatch_note(config, other, chars_per_token(chunks)):
        st.info(note)
    run_b = f"B: {other.strategy} {other.size} {other.unit}"
    groups = [run_a] * len(chunks) + [run_b] * len(second.chunks)
    chunks, vectors = chunks + list(second.chunks), np.vstack([vectors, second.vectors])
else:
    groups = [c.doc_name for c in chunks]

vectors_key = content_hash(vectors.tobytes())
# Timed per fit, not per chunk: on a few hundred chunks the fixed cost (numba compiling UMAP) dominates.
st.caption(costs_line({METHODS[m]: (f"projection {m}", 1) for m in ("umap", "tsne")}, len(chunks)))
with waiting(f"projection {method}", f"Fitting {METHODS[method]} on {len(chunks)} chunks (once per corpus and "
             "settings)"):
    projection, kept = fitted_projection(vectors_key, method, dims, vectors)
points = projection.points
if projection.note:
    st.caption(projection.note)


# --- the question ---------------------------------------------------------------------

q1, q2 = st.columns([4, 1])
query = q1.text_input("Your question", key="emb_query", placeholder="e.g. How much does delivery cost?")
k = q2.slider("Neighbours (k)", 1, 10, 5, key="emb_k")
k = min(k, len(chunks))
query_vector, neighbours, sims = None, np.array([], dtype=int), None
if query.strip():
    try:
        query_vector = retriever.embed_queries([query])
    except InvalidQuery as exc:
        st.warning(str(exc))
    else:
        sims = cosine_matrix(vectors, query_vector)[:, 0]
        neighbours = np.argsort(-sims, kind="stable")[:k]
else:
    st.caption("💡 Type a question to place it on the map and see its nearest chunks.")


# --- the map --------------------------------------------------------------------------

on_map = (None if query_vector is None else
          QueryOnMap(query, projection.transform(query_vector), neighbours, sims))
st.plotly_chart(map_figure(points, groups, chunks, dims, on_map), key="emb_map")

kind, note = projection_note(projection, kept, len(chunks), vectors.shape[1], dims)
getattr(st, kind)(note)
if query_vector is not None:
    st.caption(f"Red lines join the question to its {k} nearest chunks by cosine similarity in the full space "
               "(exact search), which is what dense retrieval uses — not the distance on the map."
               + (" Neighbours are taken from both chunking runs, so you can see which run's chunks fit the "
                  "question better." if colour_by == "run" else ""))


# --- heatmaps ---------------------------------------------------------------------------

h1, h2 = st.columns(2)
with h1:
    st.subheader("Question vs its top hits")
    if query_vector is None:
        st.caption("Appears once you type a question.")
    else:
        names = ["question"] + [escape(f"#{r + 1} {chunks[j].doc_name} #{chunks[j].index}")
                                for r, j in enumerate(neighbours)]
        stacked = np.vstack([query_vector, vectors[neighbours]])
        st.plotly_chart(heatmap_figure(cosine_matrix(stacked, stacked), names, 380), key="emb_heat_query")
        st.caption("Cosine similarity between the question and its hits, and between the hits themselves. "
                   "Hits that resemble each other strongly may repeat the same information.")
with h2:
    st.subheader("Chunks of one document")
    by_id = {d.id: d for d in docs}
    doc_id = st.selectbox("Document", list(by_id), format_func=lambda i: by_id[i].name, key="emb_heat_doc")
    own = [i for i, c in enumerate(retriever.chunks) if c.doc_id == doc_id][:HEAT_MAX]
    if len(own) == 1:
        st.caption("This document is a single chunk: there is nothing to compare it with. Pick a longer document "
                   "or a smaller chunk size.")
    elif own:
        names = [f"#{retriever.chunks[i].index}" for i in own]
        st.plotly_chart(heatmap_figure(cosine_matrix(retriever.vectors[own], retriever.vectors[own]), names, 380),
                        key="emb_heat_doc_map")
        st.caption("Neighbouring chunks of one text usually resemble each other (bright near the diagonal); "
                   + (f"only the first {HEAT_MAX} chunks are shown." if len(own) == HEAT_MAX else "bright squares are topics."))


# --- backends: speed vs accuracy ---------------------------------------------------------

backend_comparison(retriever, current_corpus(), content_hash(retriever.embedder.name, *(c.text for c in retriever.chunks)))


# --- plain words ------------------------------------------------------------------------

with st.expander("📖 In plain words: embeddings, cosine similarity and what the map distorts", expanded=False):
    st.markdown(plain_words(retriever.embedder.name, vectors.shape[1], dims))
