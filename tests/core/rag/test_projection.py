"""core.rag.projection: shapes, determinism, queries placed in the fitted map, k-means."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError
from core.rag.projection import cosine_matrix, fit_projection, kmeans_labels, neighbour_mean


def _clustered(n_per: int = 12, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Three well-separated clusters of normalised vectors (like chunks of three topics)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, dim))
    vectors = np.vstack([c + 0.15 * rng.normal(size=(n_per, dim)) for c in centres]).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


VECTORS = _clustered()
pytestmark = pytest.mark.usefixtures("warm_numba")


@pytest.mark.parametrize("method", ["pca", "umap", pytest.param("tsne", marks=pytest.mark.slow)])
@pytest.mark.parametrize("dims", [2, 3])
def test_shapes(method, dims):
    projection = fit_projection(VECTORS, method, dims, seed=0)
    assert projection.points.shape == (len(VECTORS), dims)
    assert projection.transform(VECTORS[:2]).shape == (2, dims)
    assert projection.transform(VECTORS[0]).shape == (1, dims)  # a single vector works too


@pytest.mark.parametrize("method", ["pca", "umap", pytest.param("tsne", marks=pytest.mark.slow)])
def test_same_seed_same_map(method):
    a = fit_projection(VECTORS, method, 2, seed=3).points
    b = fit_projection(VECTORS, method, 2, seed=3).points
    np.testing.assert_allclose(a, b, atol=1e-4)


@pytest.mark.parametrize("method", ["pca", "umap", "tsne"])
def test_transform_puts_a_chunk_near_its_own_point(method):
    projection = fit_projection(VECTORS, method, 2, seed=0)
    placed = projection.transform(VECTORS)
    spread = np.ptp(projection.points, axis=0).max()
    distance = np.linalg.norm(placed - projection.points, axis=1)
    # each chunk lands closer to its own point than a tenth of the map's width (on median; UMAP is approximate)
    assert np.median(distance) < 0.1 * spread, (method, np.median(distance), spread)
    # and nearer to its own cluster's centre than to any other cluster's
    labels = np.repeat(np.arange(3), len(VECTORS) // 3)
    centres = np.stack([projection.points[labels == c].mean(axis=0) for c in range(3)])
    nearest = np.argmin(np.linalg.norm(placed[:, None] - centres[None], axis=2), axis=1)
    assert (nearest == labels).mean() > 0.9


def test_umap_kernels_are_kept_on_disk_for_the_next_process():
    """umap-learn compiles most kernels without numba's file cache; the Lab switches it on (one fit has run)."""
    from core.runtime.libraries import keep_umap_kernels

    kept = {path.name.split("-")[0] for path in Path(os.environ["NUMBA_CACHE_DIR"]).glob("umap_*/*.nbi")}
    assert {"umap_.smooth_knn_dist", "layouts._optimize_layout_euclidean_single_epoch"} <= kept, kept
    assert keep_umap_kernels() == 0  # every kernel is switched already


def test_tsne_and_kmeans_run_on_one_openmp_thread(monkeypatch):
    """Two OpenMP threads on a busy 2-core machine made a 36-chunk t-SNE take 22 s instead of 0.06 s."""
    from sklearn.cluster import KMeans
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_info

    seen = []
    for cls, name in ((TSNE, "fit_transform"), (KMeans, "fit_predict")):
        def spy(self, *args, _original=getattr(cls, name), **kwargs):
            seen.append({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "openmp"})
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, spy)
    fit_projection(VECTORS, "tsne", 2, seed=0)
    kmeans_labels(VECTORS, 3)
    assert seen == [{1}, {1}]


def test_pca_transform_is_exact():
    projection = fit_projection(VECTORS, "pca", 3)
    np.testing.assert_allclose(projection.transform(VECTORS), projection.points, atol=1e-5)


def test_fitted_map_pickles():
    """The page caches fits with st.cache_data, which pickles them."""
    projection = fit_projection(VECTORS, "umap", 2, seed=0)
    again = pickle.loads(pickle.dumps(projection))
    np.testing.assert_allclose(again.points, projection.points)
    assert again.transform(VECTORS[:1]).shape == (1, 2)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_inputs_fall_back_to_pca(n):
    projection = fit_projection(VECTORS[:n], "tsne", 3)
    assert projection.method == "pca" and "PCA" in projection.note
    assert projection.points.shape == (n, 3)


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "mds"}, "unknown projection method"),
    ({"dims": 4}, "2 or 3 dimensions"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        fit_projection(VECTORS, **kwargs)


def test_empty_vectors():
    with pytest.raises(ConfigError, match="zero chunks"):
        fit_projection(np.zeros((0, 8), dtype=np.float32))


def test_neighbour_mean_is_weighted_by_similarity():
    vectors = np.array([[1, 0], [0, 1]], dtype=np.float32)
    points = np.array([[0.0, 0.0], [10.0, 10.0]], dtype=np.float32)
    halfway = np.array([[0.7071, 0.7071]], dtype=np.float32)
    np.testing.assert_allclose(neighbour_mean(halfway, vectors, points), [[5.0, 5.0]], atol=1e-3)


def test_kmeans_finds_the_three_topics_deterministically():
    labels = kmeans_labels(VECTORS, 3, seed=0)
    assert labels.shape == (len(VECTORS),)
    assert len(set(labels)) == 3
    groups = [set(labels[i * 12:(i + 1) * 12]) for i in range(3)]
    assert all(len(g) == 1 for g in groups)
    np.testing.assert_array_equal(labels, kmeans_labels(VECTORS, 3, seed=0))
    assert len(set(kmeans_labels(VECTORS[:2], 5))) <= 2  # k capped at the number of vectors


def test_cosine_matrix():
    sims = cosine_matrix(VECTORS[:4], VECTORS[:4])
    np.testing.assert_allclose(np.diag(sims), 1.0, atol=1e-5)
    assert sims.shape == (4, 4)


def test_neighbour_overlap_measures_how_much_a_map_keeps():
    from core.rag.projection import neighbour_overlap

    good = fit_projection(VECTORS, "pca", 2).points
    shuffled = good[np.random.default_rng(0).permutation(len(good))]
    kept, random = neighbour_overlap(VECTORS, good, k=5), neighbour_overlap(VECTORS, shuffled, k=5)
    assert kept > 2 * random  # a fitted map keeps far more neighbourhoods than a shuffled one
    assert random < 0.3
    assert neighbour_overlap(VECTORS[:1], good[:1]) == 1.0


def test_neighbour_overlap_samples_large_inputs():
    from core.rag.projection import neighbour_overlap

    points = fit_projection(VECTORS, "pca", 2).points
    sampled = neighbour_overlap(VECTORS, points, k=3, max_points=20)
    assert 0.0 <= sampled <= 1.0
    assert sampled == neighbour_overlap(VECTORS, points, k=3, max_points=20)  # the sample is fixed
