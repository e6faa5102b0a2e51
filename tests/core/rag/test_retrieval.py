"""Embedding cache, FAISS/BM25/hybrid search, persistence and query validation, with the real MiniLM model."""

from __future__ import annotations

import numpy as np
import pytest

from core.rag.chunking import ChunkConfig
from core.rag.documents import Document
from core.rag.embedding import EmbeddingCache, embed_texts
from core.errors import Cancelled, ConfigError, EmptyCorpus, IndexError_, InvalidQuery
from core.rag.index import BM25Index, DenseIndex, IndexConfig, rrf
from core.rag.retrieval import MAX_QUERY_CHARS, Retriever

DOCS = [
    Document("a", "hours.md", "# Opening hours\n\nThe shop opens at 8am and closes at 6pm on weekdays. "
                              "On Sundays we are closed."),
    Document("b", "delivery.md", "# Delivery\n\nSame-day delivery costs $7 inside the ring road. "
                                 "Orders must be placed before noon."),
    Document("c", "care.md", "# Plant care\n\nWater ferns twice a week and keep them out of direct sunlight. "
                             "Cacti need water once a month."),
]


@pytest.fixture(scope="module")
def retriever(embedder):
    return Retriever.build(DOCS, embedder, ChunkConfig("recursive", 60, 10, "tokens"))


def test_vectors_are_normalised_float32(embedder):
    vectors = embedder.encode(["one", "two words"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_cache_reembeds_only_new_texts(embedder, tmp_path):
    cache = EmbeddingCache(tmp_path, embedder.name)
    calls = []
    first = embed_texts(embedder, ["alpha", "beta"], cache=cache, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (2, 2)
    calls.clear()
    again = embed_texts(embedder, ["beta", "gamma", "alpha"], cache=cache, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (1, 1)  # only "gamma" was new
    assert np.allclose(again[0], first[1]) and np.allclose(again[2], first[0])
    reloaded = EmbeddingCache(tmp_path, embedder.name)  # survives a restart
    assert len(reloaded) == 3


def test_newly_embedded_counts_only_this_builds_chunks_when_another_session_embeds_at_once(embedder, tmp_path):
    from core.runtime.workspace import content_hash

    cache = EmbeddingCache(tmp_path, embedder.name)
    others = ["another session's chunk one", "another session's chunk two", "and a third"]

    def another_session_embeds_now(done: int, total: int) -> None:  # called as this build starts embedding
        if done == 0:
            cache.put([content_hash(t) for t in others], embedder.encode(others))

    built = Retriever.build(DOCS, embedder, ChunkConfig("recursive", 60, 10, "tokens"), cache=cache,
                            progress=another_session_embeds_now)
    assert built.stats.n_embedded == len({c.text for c in built.chunks})
    again = Retriever.build(DOCS, embedder, ChunkConfig("recursive", 60, 10, "tokens"), cache=cache)
    assert again.stats.n_embedded == 0


def test_embedding_can_be_stopped_and_keeps_what_it_did(embedder, tmp_path):
    cache = EmbeddingCache(tmp_path, embedder.name)
    batches = []
    with pytest.raises(Cancelled):
        embed_texts(embedder, [f"text {i}" for i in range(10)], cache=cache, batch_size=4,
                    progress=lambda d, t: batches.append(d), should_stop=lambda: len(batches) >= 2)
    assert len(cache) == 4


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
@pytest.mark.parametrize("question, document", [
    ("When does the shop close on weekdays?", "hours.md"),
    ("How much is same-day delivery?", "delivery.md"),
    ("How often should I water a fern?", "care.md"),
])
def test_search_finds_the_right_document(retriever, mode, question, document):
    hits = retriever.search(question, k=3, mode=mode)
    assert hits[0].chunk.doc_name == document
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))


def test_hits_explain_dense_and_bm25_scores(retriever):
    hit = retriever.search("delivery cost", k=1, mode="hybrid")[0]
    assert set(hit.details) == {"dense", "bm25", "dense_rank", "bm25_rank"}  # the keys search() documents
    assert hit.details["bm25"] > 0 and 0 < hit.details["dense"] <= 1
    assert hit.details["dense_rank"] >= 1 and hit.details["bm25_rank"] >= 1


@pytest.mark.parametrize("mode, own", [("dense", "dense_rank"), ("bm25", "bm25_rank")])
def test_each_retrievers_rank_is_its_own_ordering(retriever, mode, own):
    hits = [h for h in retriever.search("delivery cost", k=4, mode=mode) if h.details["bm25"] > 0 or mode == "dense"]
    assert len(hits) >= 1 and [h.details[own] for h in hits] == [h.rank for h in hits]
    assert "dense_rank" not in hits[0].details if mode == "bm25" else hits[0].details["bm25_rank"] is not None


def test_k_larger_than_corpus_returns_every_chunk(retriever):
    for mode in ("dense", "bm25", "hybrid"):
        assert len(retriever.search("shop", k=1000, mode=mode)) == len(retriever.chunks)


@pytest.mark.parametrize("query, message", [("", "empty"), ("   ", "empty"), ("x" * (MAX_QUERY_CHARS + 1), "limit")])
def test_bad_queries(retriever, query, message):
    with pytest.raises(InvalidQuery, match=message):
        retriever.search(query)


def test_bad_k_and_mode(retriever):
    with pytest.raises(ConfigError, match="k must be at least 1"):
        retriever.search("shop", k=0)
    with pytest.raises(ConfigError, match="unknown search mode"):
        retriever.search("shop", mode="magic")


def test_zero_chunks_is_a_clear_error(embedder):
    with pytest.raises(EmptyCorpus, match="zero chunks"):
        Retriever.build([], embedder)


def test_approximate_indexes_agree_with_exact_on_small_data():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(2000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[:20] + 0.01
    exact = DenseIndex(vectors, IndexConfig("flat")).search(queries, 5)[1]
    for config in (IndexConfig("hnsw", hnsw_ef_search=128), IndexConfig("ivf", ivf_nprobe=16)):
        approx = DenseIndex(vectors, config).search(queries, 5)[1]
        recall = np.mean([len(set(a) & set(e)) / 5 for a, e in zip(approx, exact)])
        assert recall >= 0.8, (config.kind, recall)
    assert (exact[:, 0] == np.arange(20)).all()


def test_bm25_and_rrf_worked_examples():
    bm25 = BM25Index(["red roses", "blue tulips", "red tulips"])
    scores, ids = bm25.search("red tulips", 3)
    assert ids[0] == 2 and scores[0] > scores[1]
    assert bm25.scores("zebra").sum() == 0
    assert rrf([[0, 1, 2], [1, 2, 0]])[0][0] == 1  # second + first beats first + third


def test_save_and_load_round_trip(retriever, embedder, tmp_path):
    retriever.save(tmp_path / "idx", DOCS)
    loaded = Retriever.load(tmp_path / "idx", embedder)
    assert loaded.chunks == retriever.chunks
    q = "How much is same-day delivery?"
    assert [h.chunk for h in loaded.search(q, 3, "hybrid")] == [h.chunk for h in retriever.search(q, 3, "hybrid")]


def test_loading_a_damaged_index_is_a_clear_error(embedder, tmp_path):
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "index.json").write_text("{not json")
    with pytest.raises(IndexError_, match="Build it again"):
        Retriever.load(tmp_path / "idx", embedder)


def test_with_index_reuses_vectors(retriever):
    hnsw = retriever.with_index(IndexConfig("hnsw"))
    assert hnsw.vectors is retriever.vectors
    assert hnsw.search("fern", 1)[0].chunk == retriever.search("fern", 1)[0].chunk
