"""Failure labels as each knob turns, on a world corpus with the built-in tiny LM (docs/failures.md's knob table).

Usage: python bench/failures_knobs.py [--corpus world_arcade] [--limit 20] [--json FILE]

For each setting, one RAG (or long-context) evaluation over the first ``--limit`` questions; prints the label counts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.answering import Answerer, Decoding  # noqa: E402
from core.evaluation import evaluate, specs_for  # noqa: E402
from core.llm.loading import load_generator  # noqa: E402
from core.rag.chunking import ChunkConfig  # noqa: E402
from core.rag.corpora import load_qa  # noqa: E402
from core.rag.documents import load_paths  # noqa: E402
from core.rag.embedding import load_embedder  # noqa: E402
from core.rag.retrieval import Retriever  # noqa: E402

# (knob, setting, system, chunk size, k, focus, max_new_tokens)
SETTINGS = [
    ("chunk size", "32 tokens", "rag", 32, 1, 0, 24),
    ("chunk size", "64 tokens", "rag", 64, 1, 0, 24),
    ("chunk size", "192 tokens (default)", "rag", 192, 1, 0, 24),
    ("k", "k = 1 at 32-token chunks", "rag", 32, 1, 0, 24),
    ("k", "k = 3 at 32-token chunks", "rag", 32, 3, 0, 24),
    ("focus", "1 sentence", "rag", 192, 1, 1, 24),
    ("focus", "3 sentences", "rag", 192, 1, 3, 24),
    ("focus", "off (default)", "rag", 192, 1, 0, 24),
    ("window", "answer cap 24 (prompt budget 1,000)", "long-context", 192, 1, 0, 24),
    ("window", "answer cap 512 (prompt budget 512)", "long-context", 192, 1, 0, 512),
]


def main() -> None:
    import torch

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default="world_arcade")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent / "sample_data" / args.corpus
    docs, qa = load_paths([root / "docs"]), load_qa(root / "qa.jsonl")[: args.limit]
    embedder, gen, retrievers, out = load_embedder(), load_generator("lab-tiny-lm"), {}, []
    for knob, setting, system, size, k, focus, cap in SETTINGS:
        if size not in retrievers:
            retrievers[size] = Retriever.build(docs, embedder, ChunkConfig(size=size, overlap=0 if size < 192 else 38))
        answerer = Answerer(gen, retrievers[size], k=k, focus=focus, documents=docs)
        t0 = time.perf_counter()
        result = evaluate(specs_for(answerer, [system]), qa, decoding=Decoding(max_new_tokens=cap))
        counts = result.systems[system]["failures"]
        out.append({"knob": knob, "setting": setting, "system": system, **counts,
                    "seconds": round(time.perf_counter() - t0, 1)})
        print(json.dumps(out[-1]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
