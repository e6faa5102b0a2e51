"""Queries stay fast on large corpora: top-k without a full sort, and BM25 built once, never per query."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.rag.chunking import ChunkConfig, chunk_documents
from core.rag.documents import load_paths
from core.rag.index import top_ids
from core.rag.retrieval import Retriever
from tests.helpers import ROOT


def _scores(kind: str, n: int, rng) -> np.ndarray:
    return {
        "ties": lambda: rng.integers(0, 3, n),
        "dense": lambda: rng.random(n),
        "sparse": lambda: np.where(rng.random(n) < 0.01, rng.random(n), 0.0),  # BM25: most chunks score 0
        "negative": lambda: rng.normal(size=n),
    }[kind]().astype(np.float32)


@pytest.mark.parametrize("kind", ["ties", "dense", "sparse", "negative"])
@pytest.mark.parametrize("n, k", [(1, 1), (4, 10), (50, 5), (1000, 60), (100_000, 5), (100_000, 60)])
def test_top_ids_is_exactly_the_stable_full_sort(kind, n, k):
    scores = _scores(kind, n, np.random.default_rng(n + k))
    assert top_ids(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()


def test_a_large_index_searches_without_rebuilding_bm25(embedder, monkeypatch):
    import bm25s

    base = chunk_documents(load_paths([ROOT / "sample_data" / "prose_flower_shop"]), ChunkConfig(), embedder.tokens)
    n = 5_000
    chunks = [replace(base[i % len(base)], doc_id=f"copy{i // len(base)}") for i in range(n)]
    vectors = np.random.default_rng(0).normal(size=(n, embedder.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    retriever = Retriever.from_vectors(chunks, vectors, embedder)

    def rebuild(*args, **kwargs):
        raise AssertionError("BM25 was re-indexed during a query")

    monkeypatch.setattr(bm25s.BM25, "index", rebuild)
    for mode in ("dense", "bm25", "hybrid"):
        hits = retriever.search("How much does delivery to Ashcombe cost?", 5, mode)
        assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    bm25 = retriever.search("Ashcombe delivery", 5, "bm25")
    assert all("Ashcombe" in h.chunk.text for h in bm25)  # the keyword chunks win among 5,000


def test_a_large_flat_index_prescans_int8_and_returns_the_exact_top_k(tmp_path):
    import faiss

    from core.rag.index import PRESCAN_FROM, DenseIndex, IndexConfig

    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(PRESCAN_FROM + 500, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[:40] + 0.3 * rng.normal(size=(40, 64)).astype(np.float32)  # each near one stored vector
    exact = faiss.IndexFlatIP(64)
    exact.add(vectors)
    want_scores, want_ids = exact.search(queries, 5)
    index = DenseIndex(vectors, IndexConfig("flat"))
    assert isinstance(index.index, faiss.IndexScalarQuantizer)  # a quarter of the bytes to scan
    for one_by_one in (False, True):
        got = [index.search(q[None], 5) for q in queries] if one_by_one else [index.search(queries, 5)]
        scores, ids = (np.concatenate(parts) for parts in zip(*got))
        assert ids.tolist() == want_ids.tolist()
        np.testing.assert_allclose(scores, want_scores, rtol=1e-5)  # re-scored in float32, not the int8 estimate
    index.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss", IndexConfig("flat"), vectors)
    assert loaded.search(queries, 5)[1].tolist() == want_ids.tolist()
    small = DenseIndex(vectors[:1000], IndexConfig("flat"))
    assert isinstance(small.index, faiss.IndexFlatIP)  # below the threshold the scan is cheap: plain exact search


@pytest.mark.slow  # builds and searches a large index twice: 4 s at load 6
def test_a_prescanned_index_gives_the_same_hits_scores_and_ranks_as_a_full_scan(embedder):
    """The 100k-chunk path reads dense ranks off the list it searched instead of scoring every chunk per
    query; the hits, their cosines and their ranks must still be what a full float32 scan says."""
    from core.rag.index import PRESCAN_FROM

    base = chunk_documents(load_paths([ROOT / "sample_data" / "prose_flower_shop"]), ChunkConfig(), embedder.tokens)
    n = PRESCAN_FROM + 1_000
    chunks = [replace(base[i % len(base)], doc_id=f"copy{i // len(base)}") for i in range(n)]
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(n, embedder.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    retriever = Retriever.from_vectors(chunks, vectors, embedder)
    assert retriever.dense.prescanned
    for q in ("How much does delivery to Ashcombe cost?", "When does the shop open on Sundays?"):
        qv = retriever.embed_queries([q])[0]
        full = vectors @ qv
        for mode in ("dense", "hybrid"):
            hits = retriever.search(q, 5, mode)
            if mode == "dense":
                assert [chunks.index(h.chunk) for h in hits] == np.argsort(-full)[:5].tolist()
            for h in hits:
                i = next(j for j in range(n) if chunks[j] is h.chunk)
                assert h.details["dense"] == pytest.approx(float(full[i]), abs=1e-5)
                want = int((full > full[i]).sum()) + 1
                if mode == "dense" or want <= 50:
                    assert h.details["dense_rank"] == want
                else:  # outside the fused dense list: counted on a bfloat16 copy, within about 1%
                    assert abs(h.details["dense_rank"] - want) <= max(3, want // 50)
