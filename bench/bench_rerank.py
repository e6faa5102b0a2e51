"""Query latency with reranking: hybrid top-20 → reranked top-5, at 10,000 chunks (target p50 ≤ 100 ms).

Usage: python bench/bench_rerank.py [--chunks 10000] [--queries 200] [--threads 2]
The index holds the sample corpora's real chunks, repeated (with slightly perturbed vectors) up to
``--chunks``, as in ``bench_ingest.py``. Chunk features are computed once at index time (as the
pages and the CLI cache them), so a query pays for: embedding the question, the first stage,
the question's token vectors, and scoring 20 candidates.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.rag.chunking import ChunkConfig  # noqa: E402
from core.rag.corpora import list_corpora, load_qa  # noqa: E402
from core.rag.documents import load_paths  # noqa: E402
from core.rag.embedding import EmbeddingCache, load_embedder  # noqa: E402
from core.rag.rerank import FeatureStore, RerankConfig, Reranker  # noqa: E402
from core.rag.retrieval import Retriever  # noqa: E402


def padded_retriever(embedder, n_chunks: int) -> Retriever:
    docs = [d for c in list_corpora() for d in load_paths([c.docs_path])]
    base = Retriever.build(docs, embedder, ChunkConfig(), cache=EmbeddingCache(Path(tempfile.mkdtemp()), embedder.name))
    reps = -(-n_chunks // len(base.chunks))
    rng = np.random.default_rng(0)
    vectors = np.concatenate([base.vectors + (i > 0) * rng.normal(0, 0.01, base.vectors.shape).astype(np.float32)
                              for i in range(reps)])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Retriever.from_vectors((base.chunks * reps)[:n_chunks], vectors[:n_chunks], embedder)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    embedder = load_embedder()
    retriever = padded_retriever(embedder, args.chunks)
    store = FeatureStore(embedder)
    t = time.perf_counter()
    store.get(list(dict.fromkeys(c.text for c in retriever.chunks)))  # index time: features of every chunk text
    print(f"{len(retriever.chunks)} chunks; features of {len(store)} distinct texts in {time.perf_counter() - t:.1f} s")
    queries = [q.question for c in list_corpora() if c.qa_path for q in load_qa(c.qa_path)]
    queries += [p for c in list_corpora() if c.qa_path for q in load_qa(c.qa_path) for p in q.paraphrases]
    queries = queries[: args.queries]
    for method in ("none", "fused", "sentence", "maxsim", "mmr"):
        reranker = Reranker(RerankConfig(method, 20), store)
        for q in queries[:5]:
            reranker.search(retriever, q, 5, "hybrid")  # warm-up
        times = []
        for q in queries:
            t = time.perf_counter()
            reranker.search(retriever, q, 5, "hybrid")
            times.append((time.perf_counter() - t) * 1000)
        print(f"  hybrid top-20 → {method:<8} top-5: p50 {np.percentile(times, 50):6.1f} ms   "
              f"p95 {np.percentile(times, 95):6.1f} ms   ({len(times)} queries, {args.threads} threads)", flush=True)


if __name__ == "__main__":
    main()
