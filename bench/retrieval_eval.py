"""Retrieval quality on the sample Q&A sets: hit@1, hit@5, MRR per mode and chunker.

Usage: python bench/retrieval_eval.py [--grid] [--paraphrases]
Without --grid it evaluates the default chunker only (the README's table);
with --grid it sweeps strategies and sizes (how the defaults were chosen).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.chunking import ChunkConfig  # noqa: E402
from core.corpora import list_corpora, load_qa  # noqa: E402
from core.documents import load_paths  # noqa: E402
from core.embedding import EmbeddingCache, load_embedder  # noqa: E402
from core.metrics import evaluate_retrieval  # noqa: E402
from core.retrieval import Retriever  # noqa: E402
from core.workspace import Workspace, default_root  # noqa: E402

GRID = [ChunkConfig("recursive", size, int(size * 0.2), "tokens") for size in (64, 96, 128, 192)] + [
    ChunkConfig(s, 128, 25, "tokens") for s in ("sentences", "markdown", "tokens")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--paraphrases", action="store_true")
    args = parser.parse_args()
    embedder = load_embedder()
    cache = EmbeddingCache(Workspace(default_root()).path("embeddings"), embedder.cache_key)
    corpora = [c for c in list_corpora() if c.qa_path]
    configs = GRID if args.grid else [ChunkConfig()]
    print("corpus,strategy,size,overlap,mode,n_questions,hit@1,hit@5,mrr,chunks")
    totals: dict[tuple, list] = {}
    for corpus in corpora:
        docs, qa = load_paths([corpus.docs_path]), load_qa(corpus.qa_path)
        for config in configs:
            retriever = Retriever.build(docs, embedder, config, cache=cache)
            for mode in ("dense", "bm25", "hybrid"):
                s, _ = evaluate_retrieval(retriever, qa, mode=mode, paraphrases=args.paraphrases)
                totals.setdefault((config.strategy, config.size, mode), []).append(s)
                print(f"{corpus.name},{config.strategy},{config.size},{config.overlap},{mode},{s.n},"
                      f"{s.hit_at_1:.3f},{s.hit_at_5:.3f},{s.mrr:.3f},{len(retriever.chunks)}", flush=True)
    print("\nmean over corpora (strategy, size, mode): hit@1 hit@5 mrr")
    for key, scores in sorted(totals.items(), key=lambda kv: -sum(s.mrr for s in kv[1])):
        n = len(scores)
        print(key, f"{sum(s.hit_at_1 for s in scores) / n:.3f} {sum(s.hit_at_5 for s in scores) / n:.3f} "
                   f"{sum(s.mrr for s in scores) / n:.3f}")


if __name__ == "__main__":
    main()
