"""Project chunk vectors to 2D/3D maps, and place new vectors (questions) in the same map.

A map is fitted once on the chunk vectors; questions are then *transformed*
into it, so typing a new question never moves the chunks.

- ``pca``: linear, instant, exact ``transform``. Keeps the directions of
  largest variance; distances along the dropped directions are lost.
- ``umap``: non-linear, keeps local neighbourhoods; has its own ``transform``.
- ``tsne``: non-linear, keeps local neighbourhoods; has **no** transform. A
  new vector is placed at the similarity-weighted mean of the projected points
  of its ``TSNE_NEIGHBOURS`` nearest chunks (softmax of cosine / ``TSNE_TEMPERATURE``),
  an approximation the UI states.

>>> import numpy as np
>>> vectors = np.eye(4, dtype=np.float32)
>>> fit_projection(vectors, "pca", dims=2).points.shape
(4, 2)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from core.errors import ConfigError

METHODS = ("pca", "umap", "tsne")
MIN_NONLINEAR = 6  # UMAP/t-SNE need a handful of points; below this the map falls back to PCA
TSNE_NEIGHBOURS = 5  # how many nearest chunks place a question in a t-SNE map
TSNE_TEMPERATURE = 0.05  # sharp weighting: a chunk's own vector lands on (almost) its own point


@dataclass
class Projection:
    """A fitted map. ``points[i]`` is where ``vectors[i]`` landed; ``note`` explains any fallback."""

    method: str
    dims: int
    points: np.ndarray
    model: object = field(default=None, repr=False)  # the fitted PCA/UMAP estimator (None for t-SNE)
    vectors: np.ndarray | None = field(default=None, repr=False)  # kept for the t-SNE approximation
    note: str = ""

    def transform(self, new_vectors: np.ndarray) -> np.ndarray:
        """Positions of ``new_vectors`` (shape (m, dim)) in this map: shape (m, dims)."""
        new_vectors = np.atleast_2d(np.asarray(new_vectors, dtype=np.float32))
        if self.method == "tsne":
            return neighbour_mean(new_vectors, self.vectors, self.points)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = self.model.transform(new_vectors)
        return _pad(np.asarray(out, dtype=np.float32), self.dims)


def fit_projection(vectors: np.ndarray, method: str = "pca", dims: int = 2, seed: int = 0) -> Projection:
    """Fit a ``method`` map of ``vectors`` (normalised, shape (n, dim)) into ``dims`` (2 or 3) dimensions.

    Deterministic for a fixed ``seed``. Tiny inputs (fewer than ``MIN_NONLINEAR``
    points) use PCA whatever the method, and say so in ``note``.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown projection method {method!r}; choose one of {', '.join(METHODS)}")
    if dims not in (2, 3):
        raise ConfigError(f"a map has 2 or 3 dimensions (got {dims})")
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) == 0:
        raise ConfigError("there are no vectors to project: the corpus produced zero chunks")
    note = ""
    if method != "pca" and len(vectors) < MIN_NONLINEAR:
        note = f"{method.upper()} needs at least {MIN_NONLINEAR} chunks; showing PCA instead."
        method = "pca"
    fit = {"pca": _fit_pca, "umap": _fit_umap, "tsne": _fit_tsne}[method]
    projection = fit(vectors, dims, seed)
    projection.note = note
    return projection


def _fit_pca(vectors: np.ndarray, dims: int, seed: int) -> Projection:
    from sklearn.decomposition import PCA

    n_components = max(1, min(dims, len(vectors), vectors.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one chunk: variance is 0/0, the map is still a single point
        model = PCA(n_components=n_components, random_state=seed).fit(vectors)
    return Projection("pca", dims, _pad(model.transform(vectors).astype(np.float32), dims), model)


def _fit_umap(vectors: np.ndarray, dims: int, seed: int) -> Projection:
    from core.runtime.libraries import keep_umap_kernels, set_numba_cache
    from core.runtime.workspace import default_root

    set_numba_cache(default_root())  # numba's compiled code persists in the workspace (``python -m core warmup``)
    import umap

    keep_umap_kernels()  # umap's own kernels too, or each new process compiles them again

    neighbours = max(2, min(15, len(vectors) - 1))  # UMAP's default, capped for small corpora
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state": determinism is wanted
        model = umap.UMAP(n_components=dims, n_neighbors=neighbours, metric="cosine", random_state=seed,
                          init="spectral" if len(vectors) > dims + 1 else "random")
        points = model.fit_transform(vectors)
    return Projection("umap", dims, np.asarray(points, dtype=np.float32), model)


def _fit_tsne(vectors: np.ndarray, dims: int, seed: int) -> Projection:
    from sklearn.manifold import TSNE

    perplexity = float(min(30.0, max(1.0, (len(vectors) - 1) / 3)))  # must stay below n
    model = TSNE(n_components=dims, perplexity=perplexity, metric="cosine", init="pca", random_state=seed,
                 max_iter=500)  # 500 iterations: converged on Lab corpus sizes, twice as fast as the default
    with one_openmp_thread():
        points = model.fit_transform(vectors)
    return Projection("tsne", dims, np.asarray(points, dtype=np.float32), None, vectors.copy())


def one_openmp_thread():
    """Run scikit-learn's OpenMP loops (t-SNE, k-means) on one thread, in the calling thread only.

    WHY: on Lab-sized maps each parallel step is tiny, and on a busy 2-core machine every step waits for
    a second thread the scheduler has put aside. Measured here (load ~3): t-SNE of 500 chunks 25 s with
    two threads, 3.7 s with one; of 36 chunks 22 s against 0.06 s; k = 2..8 k-means of 300 chunks 6.9 s
    against 0.2 s.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp")


def neighbour_mean(new_vectors: np.ndarray, vectors: np.ndarray, points: np.ndarray,
                   k: int = TSNE_NEIGHBOURS, temperature: float = TSNE_TEMPERATURE) -> np.ndarray:
    """Place each new vector at the softmax(cosine / temperature)-weighted mean of its k nearest points.

    >>> vectors = np.array([[1, 0], [0, 1]], dtype=np.float32)
    >>> points = np.array([[0, 0], [10, 10]], dtype=np.float32)
    >>> neighbour_mean(vectors[:1], vectors, points, k=2).round(2).tolist()
    [[0.0, 0.0]]
    """
    sims = new_vectors @ vectors.T
    k = min(k, len(vectors))
    nearest = np.argsort(-sims, axis=1)[:, :k]
    top = np.take_along_axis(sims, nearest, axis=1)
    weights = np.exp((top - top[:, :1]) / temperature)
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("mk,mkd->md", weights, points[nearest]).astype(np.float32)


def kmeans_labels(vectors: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Cluster labels (0..k-1) of ``vectors`` by k-means; k is capped at the number of vectors."""
    from sklearn.cluster import KMeans

    if k < 1:
        raise ConfigError(f"the number of clusters must be at least 1 (got {k})")
    k = min(k, len(vectors))
    with one_openmp_thread():
        return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(vectors).astype(int)


def neighbour_overlap(vectors: np.ndarray, points: np.ndarray, k: int = 10, max_points: int = 1000,
                      seed: int = 0) -> float:
    """How faithful a map is: the mean share of each vector's ``k`` nearest neighbours (by cosine in
    the full space) that are also among its ``k`` nearest points on the map (1.0 = all kept).

    Above ``max_points`` vectors, a fixed random sample of that many is measured (the cost is quadratic).

    >>> v = np.eye(3, dtype=np.float32)
    >>> neighbour_overlap(v, v[:, :2] * 10, k=2)
    1.0
    """
    if len(vectors) > max_points:
        keep = np.random.default_rng(seed).choice(len(vectors), max_points, replace=False)
        vectors, points = vectors[keep], points[keep]
    n = len(vectors)
    k = min(k, n - 1)
    if k < 1:
        return 1.0
    sims = cosine_matrix(vectors, vectors)
    np.fill_diagonal(sims, -np.inf)
    dist = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    np.fill_diagonal(dist, np.inf)
    full = np.argsort(-sims, axis=1)[:, :k]
    mapped = np.argsort(dist, axis=1)[:, :k]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(full, mapped)]))


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b`` (rows are normalised)."""
    return np.asarray(a, dtype=np.float32) @ np.asarray(b, dtype=np.float32).T


def _pad(points: np.ndarray, dims: int) -> np.ndarray:
    """Add zero columns when fewer components than ``dims`` could be fitted (tiny corpora)."""
    if points.shape[1] >= dims:
        return points[:, :dims]
    return np.hstack([points, np.zeros((len(points), dims - points.shape[1]), dtype=np.float32)])
