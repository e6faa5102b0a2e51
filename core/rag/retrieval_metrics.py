"""Retrieval quality and speed, measured on the current corpus.

- ``evaluate_retrieval``: hit@1, hit@5, MRR and nDCG@5 over a Q&A set.
- ``chunk_size_sweep``: the same metrics as the chunk size changes.
- ``index_recall``: recall@k of approximate FAISS indexes against exact search, with latency.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Callable, Sequence

import numpy as np

from core.rag.chunking import ChunkConfig
from core.rag.corpora import QAItem
from core.rag.documents import Document
from core.rag.embedding import Embedder, EmbeddingCache
from core.rag.index import DenseIndex, IndexConfig
from core.rag.retrieval import Retriever
from core.scoring import is_relevant



@dataclass(frozen=True)
class RetrievalScores:
    hit_at_1: float
    hit_at_5: float
    mrr: float  # mean reciprocal rank of the first relevant chunk (0 when none in the top k)
    ndcg_at_5: float
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def questions_of(qa: Sequence[QAItem], paraphrases: bool = False) -> list[tuple[QAItem, str]]:
    """(item, question) pairs: the originals, plus every paraphrase when asked."""
    pairs = [(item, item.question) for item in qa]
    if paraphrases:
        pairs += [(item, p) for item in qa for p in item.paraphrases]
    return pairs


def score_rankings(relevance: list[list[bool]]) -> RetrievalScores:
    """Metrics from per-question relevance flags of the ranked hits.

    >>> score_rankings([[True, False], [False, True]]).mrr
    0.75
    """
    n = len(relevance)
    if n == 0:
        return RetrievalScores(0.0, 0.0, 0.0, 0.0, 0)
    hit1 = sum(r[:1] == [True] for r in relevance) / n
    hit5 = sum(any(r[:5]) for r in relevance) / n
    mrr = sum(next((1 / (i + 1) for i, rel in enumerate(r) if rel), 0.0) for r in relevance) / n
    ndcg = sum(_ndcg(r[:5]) for r in relevance) / n
    return RetrievalScores(hit1, hit5, mrr, ndcg, n)


def _ndcg(flags: list[bool]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, rel in enumerate(flags) if rel)
    ideal = sum(1 / math.log2(i + 2) for i in range(sum(flags)))
    return dcg / ideal if ideal else 0.0


def evaluate_retrieval(retriever: Retriever, qa: Sequence[QAItem], mode: str = "dense", k: int = 5,
                       paraphrases: bool = False, reranker=None) -> tuple[RetrievalScores, list[dict]]:
    """Scores plus one row per question: question, rank of the first relevant hit (None if missed), top hit.

    With a ``core.rag.rerank.Reranker``, the first stage's top-N is reranked before the top ``k`` is scored.
    """
    pairs = questions_of(qa, paraphrases)
    questions = [q for _, q in pairs]
    results = (reranker.search_many(retriever, questions, k=k, mode=mode) if reranker is not None
               else retriever.search_many(questions, k=k, mode=mode))
    relevance, rows = [], []
    for (item, question), hits in zip(pairs, results):
        flags = [is_relevant(h.chunk, item) for h in hits]
        relevance.append(flags)
        first = next((i + 1 for i, f in enumerate(flags) if f), None)
        rows.append({"question": question, "answer": item.target, "first_relevant_rank": first,
                     "top_document": hits[0].chunk.doc_name if hits else "", "top_text": hits[0].chunk.text if hits else ""})
    return score_rankings(relevance), rows


def chunk_size_sweep(docs: Sequence[Document], embedder: Embedder, qa: Sequence[QAItem], sizes: Sequence[int],
                     base: ChunkConfig = ChunkConfig(), mode: str = "dense", cache: EmbeddingCache | None = None,
                     overlap_ratio: float = 0.2, progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """hit@1 / hit@5 / MRR per chunk size (overlap scales with size)."""
    rows = []
    for i, size in enumerate(sizes):
        config = replace(base, size=int(size), overlap=int(size * overlap_ratio))
        retriever = Retriever.build(docs, embedder, config, cache=cache)
        scores, _ = evaluate_retrieval(retriever, qa, mode=mode)
        rows.append({"size": int(size), "n_chunks": len(retriever.chunks), **scores.to_dict()})
        if progress:
            progress(i + 1, len(sizes))
    return rows


def question_at_sizes(docs: Sequence[Document], embedder: Embedder, question: str, sizes: Sequence[int],
                      base: ChunkConfig = ChunkConfig(), mode: str = "dense", cache: EmbeddingCache | None = None,
                      overlap_ratio: float = 0.2) -> list[dict]:
    """The top chunk for one ``question`` at each chunk size (the sizes and overlap of ``chunk_size_sweep``).

    Works without a Q&A set: it shows how one question's best passage changes as chunks grow.
    """
    rows = []
    for size in sizes:
        config = replace(base, size=int(size), overlap=int(size * overlap_ratio))
        retriever = Retriever.build(docs, embedder, config, cache=cache)
        top = retriever.search(question, 1, mode)[0]
        rows.append({"size": int(size), "chunks": len(retriever.chunks),
                     "top chunk": f"{top.chunk.doc_name} #{top.chunk.index}", "tokens": top.chunk.n_tokens,
                     "cosine": round(top.details.get("dense", 0.0), 3), "text": top.chunk.text})
    return rows


def index_recall(retriever: Retriever, queries: Sequence[str], k: int = 5,
                 configs: Sequence[IndexConfig] = (IndexConfig("flat"), IndexConfig("hnsw"), IndexConfig("ivf"))) -> list[dict]:
    """For each index type: recall@k against exact search, build seconds and per-query latency (ms).

    An index that cannot be built on this corpus (IVF on few chunks) gets an ``error`` message instead.
    """
    from core.errors import IndexError_

    qv = retriever.embed_queries(queries)
    exact = DenseIndex(retriever.vectors, IndexConfig("flat")).search(qv, k)[1]
    rows = []
    for config in configs:
        t0 = time.perf_counter()
        try:
            index = DenseIndex(retriever.vectors, config)
        except IndexError_ as exc:
            rows.append({"kind": config.kind, "config": config.to_dict(), "error": str(exc)})
            continue
        build_s = time.perf_counter() - t0
        latencies, found = [], []
        for row in qv:
            t = time.perf_counter()
            ids = index.search(row.reshape(1, -1), k)[1][0]
            latencies.append((time.perf_counter() - t) * 1000)
            found.append(ids)
        recall = np.mean([len(set(f) & set(e)) / max(len(set(e)), 1) for f, e in zip(found, exact)])
        rows.append({"kind": config.kind, "config": config.to_dict(), "recall_at_k": float(recall), "build_s": build_s,
                     "p50_ms": float(np.percentile(latencies, 50)), "p95_ms": float(np.percentile(latencies, 95))})
    return rows


def compare_rerankers(retriever: Retriever, qa: Sequence[QAItem], mode: str, reranker, methods: Sequence[str],
                      progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """hit@1 / hit@5 / MRR / nDCG@5 of the same first stage under each rerank method (``none`` = first stage alone).

    ``reranker`` supplies the feature store and the candidates / cross-encoder settings.
    """
    from core.rag.rerank import RerankConfig

    rows = []
    for i, method in enumerate(methods):
        config = replace(reranker.config, method=method) if method == reranker.config.method else \
            RerankConfig(method, reranker.config.candidates, reranker.config.model if method == "cross-encoder" else None)
        scores, _ = evaluate_retrieval(retriever, qa, mode=mode, k=5, reranker=reranker.with_config(config))
        rows.append({"reranker": method, **{k: round(v, 3) for k, v in scores.to_dict().items() if k != "n"},
                     "questions": scores.n})
        if progress:
            progress(i + 1, len(methods))
    return rows


def compare_backends(chunks, embedders: dict, qa=(), k: int = 5, progress=None) -> list[dict]:
    """The lesson in quantisation: each backend on the same chunks, against the PyTorch fp32 vectors.

    ``embedders`` maps backend name to a loaded Embedder and must hold "torch". One row per backend::

        {"backend": "onnx-int8", "chunks_per_s": 210.0, "speedup": 2.9, "cosine_mean": 0.992,
         "cosine_min": 0.98, "top_k_changed": 0.4, "hit_at_1": 0.64, "hit_at_5": 0.95, "n_questions": 40}

    ``top_k_changed``: of each query's top-``k`` chunks under fp32, how many are different under this
    backend (mean over the Q&A questions, or over the chunks themselves when there is no Q&A set).
    ``hit_at_*`` are None without a Q&A set. ``progress(done, total, backend)`` after each step.
    """
    import time

    import numpy as np

    texts = [c.text for c in chunks]
    questions = [item.question for item in qa]
    order = ["torch", *[name for name in embedders if name != "torch"]]
    reference, reference_top, rows = None, None, []
    for step, name in enumerate(order):
        emb = embedders[name]
        emb.encode(texts[:2])  # warm-up: the first call allocates buffers, which is not throughput
        start = time.perf_counter()
        vectors = emb.encode(texts)
        seconds = max(time.perf_counter() - start, 1e-9)
        queries = emb.encode(questions) if questions else vectors
        top = np.argsort(-(queries @ vectors.T), axis=1)[:, :k]
        if reference is None:
            reference, reference_top, torch_seconds = vectors, top, seconds
        cosine = np.sum(vectors * reference, axis=1)
        changed = np.mean([k - len(set(a) & set(b)) for a, b in zip(top, reference_top)])
        hit1 = hit5 = None
        if qa:
            scores, _ = evaluate_retrieval(Retriever.from_vectors(chunks, vectors, emb), qa, mode="dense", k=k)
            hit1, hit5 = scores.hit_at_1, scores.hit_at_5
        rows.append({"backend": name, "chunks_per_s": len(texts) / seconds, "speedup": torch_seconds / seconds,
                     "cosine_mean": float(cosine.mean()), "cosine_min": float(cosine.min()),
                     "top_k_changed": float(changed), "hit_at_1": hit1, "hit_at_5": hit5, "n_questions": len(qa)})
        if progress:
            progress(step + 1, len(order), name)
    return rows
