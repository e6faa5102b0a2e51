"""Benchmark fine-tuning on the built-in model: LoRA vs full step time, and seconds until facts are recalled.

    python bench/bench_finetune.py [--model models/lab-tiny-lm] [--corpus world_arcade] [--max-seconds 120]

1. Step time: the same full batch of the corpus's Q&A examples, trained with the
   default LoRA config and with full fine-tuning; median of ``--timing-steps``
   steps after one warm-up step; trainable parameters and the process's peak RSS.
2. Time to learn: default config, evaluating every ``--eval-every`` steps, until
   facts recalled ≥ 0.8 (or ``--max-seconds`` of training). Seconds count optimiser
   steps only (evaluations are reported separately).
Prints one JSON object; nothing is estimated.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.rag.corpora import get_corpus, load_qa  # noqa: E402
from core.finetune import FinetuneConfig, parameter_report, prepare_model, train  # noqa: E402
from core.finetune.step import train_step  # noqa: E402
from core.finetune.data import build_data, read_documents  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def step_time(model, tokenizer, data, config: FinetuneConfig, n: int) -> dict:
    import torch

    trainable = prepare_model(model, config)
    optimizer = torch.optim.AdamW([p for p in trainable.parameters() if p.requires_grad], lr=config.learning_rate)
    idx = list(range(min(config.batch_size, len(data.train))))
    times = [train_step(trainable, optimizer, data.train, idx, config.learning_rate, tokenizer.pad_token_id,
                        config.micro_batch_size)["seconds"]
             for _ in range(n + 1)][1:]
    return {"method": config.method, "trainable_params": parameter_report(model, config).trainable,
            "median_step_s": round(statistics.median(times), 4), "steps_timed": n,
            "batch_examples": len(idx), "peak_rss_mb": round(peak_rss_mb(), 1)}


def time_to_learn(model, tokenizer, items, documents, config: FinetuneConfig, target: float, max_seconds: float) -> dict:
    state = {"hit": False}
    data = build_data(tokenizer, items, config, documents)
    t0 = time.perf_counter()
    def on_eval(row: dict) -> None:
        state["hit"] = (row.get("facts_recalled") or 0) >= target
        print(f"eval: {row}", file=sys.stderr, flush=True)

    run = train(model, tokenizer, data, config, None, on_eval=on_eval,
                should_stop=lambda: state["hit"] or time.perf_counter() - t0 > max_seconds * 3)
    curve = [(e["step"], e["train_seconds"], e["facts_recalled"], e.get("open_book_accuracy")) for e in run.evals]
    return {"target": target, "reached": run.seconds_to_80 is not None, "train_seconds_to_target": run.seconds_to_80,
            "steps": len(run.steps), "train_seconds": round(run.train_seconds, 2),
            "eval_seconds": round(run.eval_seconds, 2), "wall_seconds": round(time.perf_counter() - t0, 2),
            "final": run.summary(), "curve (step, train s, facts, open-book)": curve}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="generator name or folder (default: built-in)")
    parser.add_argument("--corpus", default="world_arcade")
    parser.add_argument("--timing-steps", type=int, default=3)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--skip-learn", action="store_true", help="only time steps")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: what training uses, core.finetune.training_threads())")
    args = parser.parse_args(argv)

    import torch

    from core.cli.finetune import load_base
    from core.finetune import training_threads

    threads = training_threads() if args.threads is None else args.threads
    if threads:
        torch.set_num_threads(threads)

    model, tokenizer, name = load_base(args.model)
    corpus = get_corpus(args.corpus)
    items = load_qa(corpus.qa_path)
    documents = read_documents([str(corpus.docs_path)])
    lora = FinetuneConfig(eval_every=args.eval_every)
    data = build_data(tokenizer, items, lora, documents)
    out = {"model": name, "corpus": corpus.name, "facts": len(items), "torch_threads": torch.get_num_threads(),
           "config": lora.to_dict()}
    out["lora"] = step_time(model, tokenizer, data, lora, args.timing_steps)
    print(f"lora: {out['lora']}", file=sys.stderr, flush=True)
    full = dataclasses.replace(lora, method="full", learning_rate=1e-3)
    out["full"] = step_time(model, tokenizer, data, full, args.timing_steps)
    print(f"full: {out['full']}", file=sys.stderr, flush=True)
    out["full_over_lora_step_time"] = round(out["full"]["median_step_s"] / out["lora"]["median_step_s"], 3)
    if not args.skip_learn:
        out["learn"] = time_to_learn(model, tokenizer, items, documents, lora, 0.8, args.max_seconds)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
