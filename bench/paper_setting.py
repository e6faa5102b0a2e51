"""Ovadia et al. 2023's own fine-tuning setting on the world corpora: LoRA on the documents as plain text.

Usage: python bench/paper_setting.py [--rewrites 0 1 3] [--corpora world_arcade] [--max-steps N] [--json FILE]

The paper fine-tuned *without supervision on the documents* (continued pretraining) and, for
FT-par, on the documents rewritten several ways. This trains one LoRA adapter per number of
rewrites (``core.world.rewrite_documents``: the same facts in other sentence shapes), with
``FinetuneConfig(data="text", val_fraction=0)`` and otherwise the defaults, then asks every
question closed book (the adapter alone) and prints accuracy against the number of rewrites.
The Q&A-pair adapters of ``bench/eval_world.py`` are a different setting, named for what they are.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.experiments import document_training_accuracy  # noqa: E402
from core.rag.corpora import get_corpus  # noqa: E402
from core.llm.loading import load_generator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rewrites", type=int, nargs="+", default=[0, 1, 3])
    parser.add_argument("--corpora", nargs="+", default=["world_arcade"])
    parser.add_argument("--max-steps", type=int, default=0, help="cap each run (0 = the default epochs)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    base = load_generator()
    results = []
    for name in args.corpora:
        corpus = get_corpus(name)
        for n in args.rewrites:
            t0 = time.perf_counter()
            row = document_training_accuracy(base, corpus, n, max_steps=args.max_steps)
            row["seconds"] = round(time.perf_counter() - t0, 1)
            results.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n{'corpus':<18}{'rewrites':>9}{'closed-book acc':>16}{'train tokens':>13}{'steps':>7}{'seconds':>9}")
    for r in results:
        print(f"{r['corpus']:<18}{r['rewrites']:>9}{r['accuracy']:>16.3f}{r['train_tokens']:>13}{r['steps']:>7}"
              f"{r['seconds']:>9}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
