"""Embedder backends side by side, and query latency at 1k / 10k / 100k chunks, against the raw library.

Run: python bench/bench_ingest.py [--rounds 3] [--sizes 1000 10000 100000] [--skip-quality]

1. Ingest: for every backend (torch, onnx, onnx-int8), our path (chunk + embed with a fresh
   on-disk cache + FAISS/BM25 index) against raw PyTorch ``SentenceTransformer.encode`` on the
   same chunk texts, same batch size, interleaved rounds. Prints the throughput ratio ours/raw
   (median and min–max over rounds), and each backend's mean / min cosine to the fp32 vectors.
2. Quality: hit@1 / hit@5 (dense and hybrid, questions and paraphrases) on every sample corpus
   with a Q&A set, per backend: does the faster backend find the same chunks?
3. Query latency: embed + search, k=5, dense and hybrid, p50/p95 in ms, with the split into
   embedding / FAISS / BM25, over n chunks (random unit vectors for the index, real chunk texts
   for BM25, real questions embedded per query), against raw ``model.encode`` (PyTorch) +
   ``faiss.IndexFlatIP.search`` in the same run. The BM25 index is built once per size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.rag.chunking import ChunkConfig, chunk_documents  # noqa: E402
from core.rag.corpora import list_corpora, load_qa  # noqa: E402
from core.rag.documents import Document, load_paths  # noqa: E402
from core.rag.embed_backends import BACKENDS, DEFAULT_BACKEND  # noqa: E402
from core.rag.embedding import EmbeddingCache, load_embedder  # noqa: E402
from core.rag.retrieval_metrics import evaluate_retrieval  # noqa: E402
from core.rag.retrieval import Retriever  # noqa: E402


def corpus_docs(target_chunks: int, embedder) -> list[Document]:
    """The sample corpora, repeated until they give about ``target_chunks`` chunks.

    Every sentence of a copy carries its copy number, so no chunk text repeats
    (the cache would otherwise skip duplicates and flatter our side).
    """
    base = [d for c in list_corpora() for d in load_paths([c.docs_path])]
    n_base = len(chunk_documents(base, ChunkConfig(), embedder.tokens))
    copies = max(1, round(target_chunks / n_base))
    return [Document(f"{d.id}-{i}", f"copy{i}-{d.name}", d.text.replace(". ", f". ({i}) ")) for i in range(copies) for d in base]


def raw_encode(embedder, texts: list[str]) -> np.ndarray:
    return embedder.model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)


def bench_ingest(embedders: dict, docs: list[Document], rounds: int) -> None:
    torch_model = embedders["torch"]
    texts = [c.text for c in chunk_documents(docs, ChunkConfig(), torch_model.tokens)]
    print(f"ingest: {len(docs)} documents, {len(texts)} chunks, batch 64, {rounds} interleaved rounds")
    raw, ours = [], {name: [] for name in embedders}
    for _ in range(rounds):
        t = time.perf_counter()
        reference = raw_encode(torch_model, texts)
        raw.append(time.perf_counter() - t)
        for name, emb in embedders.items():
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                built = Retriever.build(docs, emb, ChunkConfig(), cache=EmbeddingCache(Path(tmp), emb.cache_key))
                ours[name].append(time.perf_counter() - t)
    r = statistics.median(raw)
    print(f"  raw PyTorch SentenceTransformer.encode: {len(texts) / r:7.1f} chunks/s (median {r:.2f} s)")
    print("  backend    chunks/s  ratio vs raw (median, min-max)  cosine to fp32 (mean, min)")
    for name, emb in embedders.items():
        o = statistics.median(ours[name])
        ratios = [a / b for a, b in zip(raw, ours[name])]
        vectors = raw_encode(emb, texts)
        cos = np.sum(vectors * reference, axis=1)
        print(f"  {name:<10} {len(texts) / o:8.1f}  {r / o:5.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
              f"                 {cos.mean():.4f}, {cos.min():.4f}")
    del built


def bench_quality(embedders: dict) -> None:
    corpora = [c for c in list_corpora() if c.qa_path]
    print(f"retrieval quality, k=5, {len(corpora)} sample corpora (hit@1/hit@5; questions, then paraphrases):")
    table: dict[tuple[str, str], list] = {}
    for corpus in corpora:
        docs, qa = load_paths([corpus.docs_path]), load_qa(corpus.qa_path)
        for name, emb in embedders.items():
            retriever = Retriever.build(docs, emb, ChunkConfig())  # embedded once, searched in both modes
            for mode in ("dense", "hybrid"):
                q, _ = evaluate_retrieval(retriever, qa, mode=mode)
                p, _ = evaluate_retrieval(retriever, qa, mode=mode, paraphrases=True)
                table.setdefault((mode, name), []).append((corpus.name, q.hit_at_1, q.hit_at_5, p.hit_at_1, p.hit_at_5))
    for (mode, name), rows in table.items():
        m = np.mean([r[1:] for r in rows], axis=0)
        cells = "; ".join(f"{r[0]} {r[1]:.3f}/{r[2]:.3f} ({r[3]:.3f}/{r[4]:.3f})" for r in rows)
        print(f"  {mode:<6} {name:<10} mean {m[0]:.3f}/{m[1]:.3f}, paraphrases {m[2]:.3f}/{m[3]:.3f} | {cells}")


def synthetic_retriever(embedder, texts: list[str], n: int) -> Retriever:
    """``n`` chunks: real texts (numbered copies, for BM25) over random unit vectors (for FAISS)."""
    base = chunk_documents([Document(f"d{i}", f"d{i}", t) for i, t in enumerate(texts)], ChunkConfig(), embedder.tokens)
    chunks = [replace(base[i % len(base)], doc_id=f"copy{i // len(base)}") for i in range(n)]
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(n, embedder.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Retriever.from_vectors(chunks, vectors, embedder)


def percentiles(times: list[float]) -> str:
    return f"p50 {np.percentile(times, 50):6.2f} p95 {np.percentile(times, 95):6.2f}"


def bench_queries(embedder, torch_model, texts: list[str], queries: list[str], n: int) -> None:
    import faiss

    t = time.perf_counter()
    retriever = synthetic_retriever(embedder, texts, n)
    built = time.perf_counter() - t
    flat = faiss.IndexFlatIP(embedder.dim)
    flat.add(retriever.vectors)
    raw = []
    for q in queries[:5] + queries:  # the first five warm up both paths
        t = time.perf_counter()
        flat.search(raw_encode(torch_model, [q]), 5)
        raw.append((time.perf_counter() - t) * 1000)
    raw = raw[5:]
    print(f"  {n:>7,} chunks (index + BM25 built once in {built:.1f} s); raw PyTorch encode + IndexFlatIP: {percentiles(raw)} ms")
    qv = retriever.embed_queries(queries)
    exact, ours = flat.search(qv, 5)[1], retriever.dense.search(qv, 5)[1]
    same = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(exact, ours)])
    print(f"    dense top-5 of ours vs the full float32 scan: recall {same:.4f} over {len(queries)} queries")
    for mode in ("dense", "hybrid"):
        total, embed, search, bm25 = [], [], [], []
        for q in queries[:5] + queries:
            t0 = time.perf_counter()
            retriever.search(q, 5, mode)
            t1 = time.perf_counter()
            qv = retriever.embed_queries([q])
            t2 = time.perf_counter()
            retriever.dense.search(qv, 5)
            t3 = time.perf_counter()
            retriever.bm25.scores(q)
            t4 = time.perf_counter()
            for bucket, dt in ((total, t1 - t0), (embed, t2 - t1), (search, t3 - t2), (bm25, t4 - t3)):
                bucket.append(dt * 1000)
        total, embed, search, bm25 = (b[5:] for b in (total, embed, search, bm25))
        print(f"    ours {mode:<6}: {percentiles(total)} ms  (embed p50 {np.median(embed):.2f}, FAISS {np.median(search):.2f},"
              f" BM25 {np.median(bm25):.2f})   raw/ours p50 = {np.median(raw) / np.median(total):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ingest-chunks", type=int, default=600)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    embedders = {name: load_embedder(backend=name) for name in BACKENDS}
    bench_ingest(embedders, corpus_docs(args.ingest_chunks, embedders["torch"]), args.rounds)
    if not args.skip_quality:
        bench_quality(embedders)
    corpora = [c for c in list_corpora() if c.qa_path]
    queries = [q.question for c in corpora for q in load_qa(c.qa_path)]
    queries += [p for c in corpora for q in load_qa(c.qa_path) for p in q.paraphrases]
    texts = [d.text for c in list_corpora() for d in load_paths([c.docs_path])]
    print(f"query latency (embed + search, k=5), default backend {DEFAULT_BACKEND}, {args.queries} queries:")
    for n in args.sizes:
        bench_queries(embedders[DEFAULT_BACKEND], embedders["torch"], texts, queries[: args.queries], n)


if __name__ == "__main__":
    main()
