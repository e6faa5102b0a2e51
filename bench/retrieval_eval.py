"""Retrieval quality on the sample Q&A sets: hit@1, hit@5, MRR, nDCG@5 per mode, chunker and reranker.

Usage: python bench/retrieval_eval.py [--grid] [--paraphrases] [--rerank METHOD ...] [--candidates N]
Without --grid it evaluates the default chunker only (the README's table);
with --grid it sweeps strategies and sizes (how the defaults were chosen).
Every rerank method (``core.rag.rerank.METHODS`` but the cross-encoder, which needs a model you name)
reranks each mode's top --candidates; ``none`` is the first stage alone. ``--only-paraphrases``
scores the paraphrased questions without the originals (a check on questions no choice was made on).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.rag.chunking import ChunkConfig  # noqa: E402
from core.rag.corpora import list_corpora, load_qa  # noqa: E402
from core.rag.documents import load_paths  # noqa: E402
from core.rag.embedding import EmbeddingCache, load_embedder  # noqa: E402
from core.rag.retrieval_metrics import evaluate_retrieval  # noqa: E402
from core.rag.rerank import DEFAULT_CANDIDATES, METHODS, RerankConfig, make_reranker  # noqa: E402
from core.rag.retrieval import Retriever  # noqa: E402
from core.runtime.workspace import Workspace, default_root  # noqa: E402

GRID = [ChunkConfig("recursive", size, int(size * 0.2), "tokens") for size in (64, 96, 128, 192)] + [
    ChunkConfig(s, 128, 25, "tokens") for s in ("sentences", "markdown", "tokens")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--paraphrases", action="store_true")
    parser.add_argument("--only-paraphrases", action="store_true")
    parser.add_argument("--mode", nargs="+", default=["dense", "bm25", "hybrid"])
    parser.add_argument("--rerank", nargs="+", default=[m for m in METHODS if m != "cross-encoder"])
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES)
    parser.add_argument("--cross-encoder", default=None, help="also rerank with this CrossEncoder (id or folder)")
    args = parser.parse_args()
    embedder = load_embedder()
    workspace = Workspace(default_root())
    cache = EmbeddingCache(workspace.path("embeddings"), embedder.cache_key)
    base = make_reranker(embedder, RerankConfig("none"), workspace)
    rerankers = {m: base.with_config(RerankConfig(m, args.candidates)) for m in args.rerank}
    if args.cross_encoder:
        rerankers["cross-encoder"] = base.with_config(RerankConfig("cross-encoder", args.candidates, args.cross_encoder))
    corpora = [c for c in list_corpora() if c.qa_path]
    configs = GRID if args.grid else [ChunkConfig()]
    print("corpus,strategy,size,overlap,mode,rerank,n_questions,hit@1,hit@5,mrr,ndcg@5,chunks")
    totals: dict[tuple, list] = {}
    for corpus in corpora:
        docs, qa = load_paths([corpus.docs_path]), load_qa(corpus.qa_path)
        if args.only_paraphrases:
            qa = [replace(item, question=p, paraphrases=()) for item in qa for p in item.paraphrases]
        for config in configs:
            retriever = Retriever.build(docs, embedder, config, cache=cache)
            for mode in args.mode:
                for method, reranker in rerankers.items():
                    s, _ = evaluate_retrieval(retriever, qa, mode=mode, paraphrases=args.paraphrases, reranker=reranker)
                    totals.setdefault((corpus.kind, config.strategy, config.size, mode, method), []).append(s)
                    print(f"{corpus.name},{config.strategy},{config.size},{config.overlap},{mode},{method},{s.n},"
                          f"{s.hit_at_1:.3f},{s.hit_at_5:.3f},{s.mrr:.3f},{s.ndcg_at_5:.3f},{len(retriever.chunks)}",
                          flush=True)
    print("\nmean over corpora (kind, strategy, size, mode, rerank): hit@1 hit@5 mrr ndcg@5")
    for key, scores in sorted(totals.items(), key=lambda kv: (kv[0][0], -sum(s.hit_at_1 for s in kv[1]))):
        n = len(scores)
        print(key, " ".join(f"{sum(getattr(s, m) for s in scores) / n:.3f}" for m in ("hit_at_1", "hit_at_5", "mrr", "ndcg_at_5")))


if __name__ == "__main__":
    main()
