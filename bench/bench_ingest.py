"""Ingest throughput vs raw sentence-transformers, and query latency at 1k / 10k chunks.

Run: python bench/bench_ingest.py [--rounds 3]

1. Ingest: our path (chunk + embed with the on-disk cache + FAISS/BM25 index) against raw
   ``SentenceTransformer.encode`` on the same chunk texts, same batch size, interleaved rounds,
   a fresh (empty) cache each round. Prints the throughput ratio ours/raw (target ≥ 0.95).
2. Query latency: embed + search (dense and hybrid) over 1k and 10k chunks, p50/p95 in ms
   (target p50 ≤ 25 ms at 10k).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.chunking import ChunkConfig, chunk_documents  # noqa: E402
from core.corpora import list_corpora, load_qa  # noqa: E402
from core.documents import Document, load_paths  # noqa: E402
from core.embedding import EmbeddingCache, load_embedder  # noqa: E402
from core.retrieval import Retriever  # noqa: E402


def corpus_docs(target_chunks: int, embedder) -> list[Document]:
    """The sample corpora, repeated until they give about ``target_chunks`` chunks.

    Every sentence of a copy carries its copy number, so no chunk text repeats
    (the cache would otherwise skip duplicates and flatter our side).
    """
    base = [d for c in list_corpora() for d in load_paths([c.docs_path])]
    n_base = len(chunk_documents(base, ChunkConfig(), embedder.tokens))
    copies = max(1, round(target_chunks / n_base))
    return [Document(f"{d.id}-{i}", f"copy{i}-{d.name}", d.text.replace(". ", f". ({i}) ")) for i in range(copies) for d in base]


def bench_ingest(embedder, docs: list[Document], rounds: int) -> None:
    texts = [c.text for c in chunk_documents(docs, ChunkConfig(), embedder.tokens)]
    print(f"ingest: {len(docs)} documents, {len(texts)} chunks, batch 64, {rounds} interleaved rounds")
    ours, raw = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        embedder.model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        raw.append(time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            Retriever.build(docs, embedder, ChunkConfig(), cache=EmbeddingCache(Path(tmp), embedder.name))
            ours.append(time.perf_counter() - t)
    r, o = statistics.median(raw), statistics.median(ours)
    print(f"  raw SentenceTransformer.encode : {len(texts) / r:8.1f} chunks/s (median {r:.2f} s)")
    print(f"  ours (chunk + embed + index)   : {len(texts) / o:8.1f} chunks/s (median {o:.2f} s)")
    print(f"  throughput ratio ours/raw      : {r / o:.3f}  (target >= 0.95)")


def bench_queries(embedder, docs: list[Document], queries: list[str], n_chunks: int) -> None:
    retriever = Retriever.build(docs, embedder, ChunkConfig(), cache=EmbeddingCache(Path(tempfile.mkdtemp()), embedder.name))
    chunks, vectors = retriever.chunks, retriever.vectors
    if len(chunks) < n_chunks:  # pad with slightly perturbed real vectors so the index has n_chunks entries
        reps = -(-n_chunks // len(chunks))
        rng = np.random.default_rng(0)
        vectors = np.concatenate([vectors + (i > 0) * rng.normal(0, 0.01, vectors.shape).astype(np.float32) for i in range(reps)])
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        chunks = (chunks * reps)
    retriever = Retriever.from_vectors(chunks[:n_chunks], vectors[:n_chunks], embedder)
    for mode in ("dense", "hybrid"):
        for q in queries[:5]:
            retriever.search(q, 5, mode)  # warm-up
        times = []
        for q in queries:
            t = time.perf_counter()
            retriever.search(q, 5, mode)
            times.append((time.perf_counter() - t) * 1000)
        print(f"  {n_chunks:>6} chunks, {mode:<6}: p50 {np.percentile(times, 50):6.2f} ms   p95 {np.percentile(times, 95):6.2f} ms"
              f"   ({len(times)} queries)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ingest-chunks", type=int, default=600)
    args = parser.parse_args()
    embedder = load_embedder()
    bench_ingest(embedder, corpus_docs(args.ingest_chunks, embedder), args.rounds)
    queries = [q.question for c in list_corpora() if c.qa_path for q in load_qa(c.qa_path)]
    queries += [p for c in list_corpora() if c.qa_path for q in load_qa(c.qa_path) for p in q.paraphrases]
    print("query latency (embed + search, k=5):")
    docs = [d for c in list_corpora() for d in load_paths([c.docs_path])]
    for n in (1_000, 10_000):
        bench_queries(embedder, docs, queries[:200], n)


if __name__ == "__main__":
    main()
