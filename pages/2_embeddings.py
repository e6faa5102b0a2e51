"""Embedding space: every chunk is a point; a question lands among them."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.chunking import STRATEGIES
from core.errors import ConfigError, InvalidQuery
from core.projection import TSNE_NEIGHBOURS, cosine_matrix, fit_projection, kmeans_labels, neighbour_overlap
from core.workspace import content_hash
from ui.backend_views import backend_comparison
from ui.rag_views import chars_per_token, documents_and_retriever, preview, unit_mismatch_note
from ui.state import current_corpus, get_retriever
from ui.widgets import escape
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

METHODS = {"pca": "PCA (instant)", "umap": "UMAP", "tsne": "t-SNE"}
COLOUR_BY = {"document": "document", "cluster": "k-means cluster", "run": "chunking run (compare two configs)"}
PALETTE = ["#2f6fdf", "#ea580c", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8a04", "#4b5563", "#dc2626", "#65a30d"]
HEAT_MAX = 40  # chunks in the within-document heatmap
WEBGL_FROM = 1500  # above this many points a 2D trace is drawn with WebGL, which stays smooth
SLOW_FIT = {"umap": 3000, "tsne": 1500}  # chunk counts above which a fit takes a minute or more on a laptop CPU
ss = st.session_state

st.title("Embedding space")
st.markdown(
    "The embedding model turns every chunk into a list of numbers (a **vector**) so that chunks about the same "
    "thing get similar vectors. Below, each dot is one chunk, squeezed from hundreds of dimensions onto your "
    "screen. Type a question: it is embedded the same way and lands among the chunks it is closest to."
)


@st.cache_data(max_entries=12, show_spinner=False)
def _fit(vectors_key: str, method: str, dims: int, _vectors: np.ndarray):
    """The fitted map and how many neighbourhoods it keeps; keyed by a hash of the vectors."""
    projection = fit_projection(_vectors, method, dims, seed=0)
    return projection, neighbour_overlap(_vectors, projection.points, k=10)


@st.cache_data(max_entries=12, show_spinner=False)
def _clusters(vectors_key: str, k: int, _vectors: np.ndarray) -> np.ndarray:
    return kmeans_labels(_vectors, k, seed=0)


def _hover(label: str, text: str) -> str:
    """Escaped, wrapped hover text (plotly renders a subset of HTML, so user text is escaped)."""
    lines = textwrap.wrap(preview(text, 240), 60)
    return "<b>" + escape(label) + "</b><br>" + "<br>".join(escape(line) for line in lines)


def _scatter(fig: go.Figure, points: np.ndarray, dims: int, **kwargs) -> None:
    if dims == 3:
        fig.add_scatter3d(x=points[:, 0], y=points[:, 1], z=points[:, 2], **kwargs)
    elif len(points) > WEBGL_FROM:
        fig.add_scattergl(x=points[:, 0], y=points[:, 1], **kwargs)
    else:
        fig.add_scatter(x=points[:, 0], y=points[:, 1], **kwargs)


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
    groups = [f"cluster {g + 1}" for g in _clusters(content_hash(vectors.tobytes()), n_clusters, vectors)]
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
if len(chunks) > SLOW_FIT.get(method, len(chunks)):
    st.caption(f"⏳ {METHODS[method]} on {len(chunks):,} chunks takes a while on a CPU; PCA is instant.")
with st.spinner(f"Fitting {METHODS[method]} on {len(chunks)} chunks (once per corpus and settings)…"):
    projection, kept = _fit(vectors_key, method, dims, vectors)
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

fig = go.Figure()
labels = list(dict.fromkeys(groups))  # in order of first appearance
group_array = np.array(groups)
for i, label in enumerate(labels):
    idx = np.flatnonzero(group_array == label)
    _scatter(fig, points[idx], dims, mode="markers", name=escape(label),
             marker=dict(size=5 if dims == 3 else 8, color=PALETTE[i % len(PALETTE)], opacity=0.75),
             hovertext=[_hover(f"{chunks[j].doc_name} · chunk #{chunks[j].index}", chunks[j].text) for j in idx],
             hoverinfo="text")
if query_vector is not None:
    q_point = projection.transform(query_vector)
    near = points[neighbours]
    line = np.full((3 * len(near), dims), np.nan, dtype=np.float32)
    line[0::3], line[1::3] = q_point[0], near
    _scatter(fig, line, dims, mode="lines", name="question → neighbours", line=dict(color="#dc2626", width=2),
             hoverinfo="skip", connectgaps=False)
    _scatter(fig, near, dims, mode="markers", name=f"top-{k} neighbours",
             marker=dict(size=9, color="#dc2626", symbol="circle-open") if dims == 3 else
             dict(size=16, color="rgba(0,0,0,0)", line=dict(color="#dc2626", width=3)),
             hovertext=[_hover(f"#{r + 1} · cosine {sims[j]:.3f} · {chunks[j].doc_name} #{chunks[j].index}",
                               chunks[j].text) for r, j in enumerate(neighbours)], hoverinfo="text")
    _scatter(fig, q_point, dims, mode="markers", name="your question",
             marker=dict(size=10 if dims == 3 else 20, color="#dc2626", symbol="diamond" if dims == 3 else "star"),
             hovertext=[_hover("your question", query)], hoverinfo="text")
fig.update_layout(height=560, margin=dict(t=10, b=10, l=10, r=10), legend=dict(itemsizing="constant"))
st.plotly_chart(fig, key="emb_map")

n_near = min(10, len(chunks) - 1)  # what neighbour_overlap measured: a 4-chunk corpus has 3 neighbours each
faithful = (f"Of each chunk's {n_near} closest chunks in {vectors.shape[1]} dimensions, {kept * n_near:.1f} on "
            f"average are still among its {n_near} closest on this map." if n_near >= 1 else "")
if projection.method == "pca":
    variance = float(np.sum(projection.model.explained_variance_ratio_))
    st.caption(f"PCA keeps {variance:.0%} of the spread of the vectors in {dims} directions. {faithful} "
               "The question is placed with PCA's exact transform.")
elif projection.method == "umap":
    st.caption(f"{faithful} The question is placed with UMAP's own transform into the fitted map.")
else:
    st.info(f"{faithful} **t-SNE cannot place new points** in a map it has already fitted. The question is "
            f"placed by an approximation: at the similarity-weighted average position of its "
            f"{TSNE_NEIGHBOURS} most similar chunks. Its red lines still go to the true nearest chunks.")
if query_vector is not None:
    st.caption(f"Red lines join the question to its {k} nearest chunks by cosine similarity in the full space "
               "(exact search), which is what dense retrieval uses — not the distance on the map."
               + (" Neighbours are taken from both chunking runs, so you can see which run's chunks fit the "
                  "question better." if colour_by == "run" else ""))


# --- heatmaps ---------------------------------------------------------------------------

def _heatmap(matrix: np.ndarray, names: list[str], key: str, height: int) -> None:
    heat = go.Figure(go.Heatmap(z=matrix, x=names, y=names, colorscale="Blues", zmin=float(min(0.0, matrix.min())),
                                zmax=1.0, text=[[f"{v:.2f}" for v in row] for row in matrix],
                                texttemplate="%{text}" if len(names) <= 12 else None,
                                hovertemplate="%{y} ↔ %{x}: cosine %{z:.3f}<extra></extra>"))
    heat.update_layout(height=height, margin=dict(t=10, b=10, l=10, r=10), yaxis=dict(autorange="reversed"))
    st.plotly_chart(heat, key=key)


h1, h2 = st.columns(2)
with h1:
    st.subheader("Question vs its top hits")
    if query_vector is None:
        st.caption("Appears once you type a question.")
    else:
        names = ["question"] + [escape(f"#{r + 1} {chunks[j].doc_name} #{chunks[j].index}")
                                for r, j in enumerate(neighbours)]
        stacked = np.vstack([query_vector, vectors[neighbours]])
        _heatmap(cosine_matrix(stacked, stacked), names, "emb_heat_query", 380)
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
        _heatmap(cosine_matrix(retriever.vectors[own], retriever.vectors[own]), names, "emb_heat_doc_map", 380)
        st.caption("Neighbouring chunks of one text usually resemble each other (bright near the diagonal); "
                   + (f"only the first {HEAT_MAX} chunks are shown." if len(own) == HEAT_MAX else "bright squares are topics."))


# --- backends: speed vs accuracy ---------------------------------------------------------

backend_comparison(retriever, current_corpus(), content_hash(retriever.embedder.name, *(c.text for c in retriever.chunks)))


# --- plain words ------------------------------------------------------------------------

with st.expander("📖 In plain words: embeddings, cosine similarity and what the map distorts", expanded=False):
    st.markdown(
        f"""
**What is an embedding?** The model ({retriever.embedder.name}) reads a chunk and outputs {vectors.shape[1]}
numbers. It was trained so that texts with similar meaning get similar numbers, even when they share no words
("How much is shipping?" and "delivery fee" end up close).

**Why cosine similarity?** Two vectors are compared by the angle between them: cosine 1 means "pointing the
same way" (same meaning), 0 means unrelated. The Lab's vectors all have length 1, so the cosine is a plain
dot product, which is what the FAISS index computes. Length would mostly reflect how long a text is, not what it
says, so the angle is the better measure.

**What does the map distort?** Nobody can look at {vectors.shape[1]} dimensions, so the map squeezes them into
{dims}. PCA keeps the directions along which the chunks vary most and drops the rest; UMAP and t-SNE try to keep
each chunk's near neighbours near, at the cost of global distances (the gaps between clusters, and cluster sizes,
mean little). Two dots that look close may not be close in the full space, which is why the red lines use the
real similarity. The map is fitted once; questions are placed into it, so the dots never jump while you type.
"""
    )
