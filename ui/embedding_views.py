"""Render-only views of the Embedding page: the map of chunks and the similarity heatmaps.

The figures are built from plain arrays (projected points, group labels,
chunks); user text goes through ``escape`` before plotly shows it as hover HTML.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from core.rag.chunking import Chunk
from core.rag.projection import TSNE_NEIGHBOURS, Projection
from ui.rag_views import preview
from ui.widgets import escape

PALETTE = ["#2f6fdf", "#ea580c", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8a04", "#4b5563", "#dc2626", "#65a30d"]
WEBGL_FROM = 1500  # above this many points a 2D trace is drawn with WebGL, which stays smooth


@dataclass
class QueryOnMap:
    """A question placed on the map: its point, its nearest chunks (indices) and every chunk's cosine to it."""
    text: str
    point: np.ndarray  # shape (1, dims)
    neighbours: np.ndarray
    sims: np.ndarray


def hover_html(label: str, text: str) -> str:
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


def map_figure(points: np.ndarray, groups: Sequence[str], chunks: Sequence[Chunk], dims: int,
               query: QueryOnMap | None = None) -> go.Figure:
    """Every chunk as a dot coloured by its group; a question as a star with red lines to its nearest chunks."""
    fig = go.Figure()
    labels = list(dict.fromkeys(groups))  # in order of first appearance
    group_array = np.array(groups)
    for i, label in enumerate(labels):
        idx = np.flatnonzero(group_array == label)
        _scatter(fig, points[idx], dims, mode="markers", name=escape(label),
                 marker=dict(size=5 if dims == 3 else 8, color=PALETTE[i % len(PALETTE)], opacity=0.75),
                 hovertext=[hover_html(f"{chunks[j].doc_name} · chunk #{chunks[j].index}", chunks[j].text) for j in idx],
                 hoverinfo="text")
    if query is not None:
        near = points[query.neighbours]
        line = np.full((3 * len(near), dims), np.nan, dtype=np.float32)
        line[0::3], line[1::3] = query.point[0], near
        _scatter(fig, line, dims, mode="lines", name="question → neighbours", line=dict(color="#dc2626", width=2),
                 hoverinfo="skip", connectgaps=False)
        _scatter(fig, near, dims, mode="markers", name=f"top-{len(near)} neighbours",
                 marker=dict(size=9, color="#dc2626", symbol="circle-open") if dims == 3 else
                 dict(size=16, color="rgba(0,0,0,0)", line=dict(color="#dc2626", width=3)),
                 hovertext=[hover_html(f"#{r + 1} · cosine {query.sims[j]:.3f} · {chunks[j].doc_name} #{chunks[j].index}",
                                       chunks[j].text) for r, j in enumerate(query.neighbours)], hoverinfo="text")
        _scatter(fig, query.point, dims, mode="markers", name="your question",
                 marker=dict(size=10 if dims == 3 else 20, color="#dc2626", symbol="diamond" if dims == 3 else "star"),
                 hovertext=[hover_html("your question", query.text)], hoverinfo="text")
    fig.update_layout(height=560, margin=dict(t=10, b=10, l=10, r=10), legend=dict(itemsizing="constant"))
    return fig


def heatmap_figure(matrix: np.ndarray, names: list[str], height: int) -> go.Figure:
    """A cosine-similarity matrix with its labels (values written in the cells when there are few)."""
    heat = go.Figure(go.Heatmap(z=matrix, x=names, y=names, colorscale="Blues", zmin=float(min(0.0, matrix.min())),
                                zmax=1.0, text=[[f"{v:.2f}" for v in row] for row in matrix],
                                texttemplate="%{text}" if len(names) <= 12 else None,
                                hovertemplate="%{y} ↔ %{x}: cosine %{z:.3f}<extra></extra>"))
    heat.update_layout(height=height, margin=dict(t=10, b=10, l=10, r=10), yaxis=dict(autorange="reversed"))
    return heat


def projection_note(projection: Projection, kept: float, n_chunks: int, full_dims: int, dims: int) -> tuple[str, str]:
    """("caption" or "info", what the map keeps and how the question is placed on it).

    ``kept`` is ``neighbour_overlap``'s share of each chunk's 10 nearest neighbours still near on the map.
    """
    n_near = min(10, n_chunks - 1)  # what neighbour_overlap measured: a 4-chunk corpus has 3 neighbours each
    faithful = (f"Of each chunk's {n_near} closest chunks in {full_dims} dimensions, {kept * n_near:.1f} on "
                f"average are still among its {n_near} closest on this map." if n_near >= 1 else "")
    if projection.method == "pca":
        variance = float(np.sum(projection.model.explained_variance_ratio_))
        return "caption", (f"PCA keeps {variance:.0%} of the spread of the vectors in {dims} directions. {faithful} "
                           "The question is placed with PCA's exact transform.")
    if projection.method == "umap":
        return "caption", f"{faithful} The question is placed with UMAP's own transform into the fitted map."
    return "info", (f"{faithful} **t-SNE cannot place new points** in a map it has already fitted. The question is "
                    f"placed by an approximation: at the similarity-weighted average position of its "
                    f"{TSNE_NEIGHBOURS} most similar chunks. Its red lines still go to the true nearest chunks.")


def plain_words(embedder_name: str, full_dims: int, dims: int) -> str:
    """The page's plain-words explanation of embeddings, cosine similarity and what the map distorts."""
    return f"""
**What is an embedding?** The model ({embedder_name}) reads a chunk and outputs {full_dims}
numbers. It was trained so that texts with similar meaning get similar numbers, even when they share no words
("How much is shipping?" and "delivery fee" end up close).

**Why cosine similarity?** Two vectors are compared by the angle between them: cosine 1 means "pointing the
same way" (same meaning), 0 means unrelated. The Lab's vectors all have length 1, so the cosine is a plain
dot product, which is what the FAISS index computes. Length would mostly reflect how long a text is, not what it
says, so the angle is the better measure.

**What does the map distort?** Nobody can look at {full_dims} dimensions, so the map squeezes them into
{dims}. PCA keeps the directions along which the chunks vary most and drops the rest; UMAP and t-SNE try to keep
each chunk's near neighbours near, at the cost of global distances (the gaps between clusters, and cluster sizes,
mean little). Two dots that look close may not be close in the full space, which is why the red lines use the
real similarity. The map is fitted once; questions are placed into it, so the dots never jump while you type.
"""
