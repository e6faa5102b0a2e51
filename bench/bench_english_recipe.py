"""The LoRA recipe for a real English model, one change at a time: step time, memory and facts recalled.

    python bench/bench_english_recipe.py --model /work/smollm2-135m-instruct [--steps 3] [--only NAME ...]
    python bench/bench_english_recipe.py --model ... --learn [--only facts ...]   # full runs until recall 100%

Starts from the "facts" preset (``core.finetune.presets.FACTS``) and changes one setting per row
(answer-only vs whole-sequence loss, upper half vs every block, 1 vs 2 threads, bf16 autocast, full
batch vs length-bucketed micro-batches, q/v at rank 4: the old "quick" shape). Step mode times
``--steps`` optimiser steps on the 20 held-out English pairs (median, after one warm-up step; wall
seconds and CPU seconds of all threads, which a shared machine inflates less) with the process's peak memory; ``--learn`` trains until every fact is recalled (the preset's early stop),
recording the recall curve, training and evaluation seconds. ``/proc/loadavg`` is printed with each row:
on a shared machine the times are upper bounds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QA = ROOT / "sample_data" / "heldout_english" / "qa.jsonl"
CHANGES = {  # name → settings changed from the facts preset
    "facts": {},
    "loss on the whole sequence": {"loss_on": "all"},
    "every block (not the upper half)": {"upper_layers": 1.0},
    "upper quarter": {"upper_layers": 0.25},
    "2 threads": {"threads": 2},
    "bf16 autocast": {"bf16": True},
    "fp32 steps (no autocast)": {"bf16": False},
    "micro-batches of 5 (length-bucketed)": {"micro_batch_size": 5},
    "q/v only at rank 4 (the quick shape)": {"rank": 4, "alpha": 8.0, "target_modules": ("q_proj", "v_proj")},
    "lr 2e-3": {"learning_rate": 2e-3},
    "lr 5e-3": {"learning_rate": 5e-3},
}


def load() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def step_times(gen, items, config, steps: int) -> dict:
    import torch

    from core.finetune import batch_plan, parameter_report, prepare_model, training_threads
    from core.finetune.data import build_data
    from core.finetune.step import train_step
    from core.runtime.memory import PeakRSS
    from core.runtime.threads import torch_threads

    data = build_data(gen.tokenizer, items, config, style=gen.profile.prompt)
    idx = batch_plan(len(data.train), config)[0][1]
    with torch_threads(config.threads or training_threads()), PeakRSS() as memory:
        model = prepare_model(gen.model, config)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
        rows, cpu = [], []
        for _ in range(steps + 1):
            c = time.process_time()
            rows.append(train_step(model, optimizer, data.train, idx, config.learning_rate,
                                   gen.tokenizer.pad_token_id, config.micro_batch_size, config.bf16))
            cpu.append(time.process_time() - c)
    del model, optimizer
    return {"median_step_s": round(statistics.median(r["seconds"] for r in rows[1:]), 2),
            "median_step_cpu_s": round(statistics.median(cpu[1:]), 2),
            "losses": [r["loss"] for r in rows], "peak_rss_mb": round(memory.peak_mb),
            "trainable": parameter_report(gen.model, config).trainable, "loadavg": load()}


def learn(gen, items, config) -> dict:
    from core.finetune import train
    from core.finetune.data import build_data

    t = time.perf_counter()
    run = train(gen.model, gen.tokenizer, build_data(gen.tokenizer, items, config, style=gen.profile.prompt), config, None)
    return {"steps": len(run.steps), "train_s": round(run.train_seconds, 1), "eval_s": round(run.eval_seconds, 1),
            "wall_s": round(time.perf_counter() - t, 1), "facts_recalled": run.summary()["facts_recalled"],
            "curve": [(e["step"], e["facts_recalled"]) for e in run.evals], "loadavg": load()}


def main(argv: list[str] | None = None) -> int:
    from core.finetune.presets import FACTS, preset_from_dict
    from core.llm.loading import load_generator
    from core.rag.corpora import load_qa

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--only", nargs="+", choices=list(CHANGES), default=list(CHANGES))
    ap.add_argument("--learn", action="store_true", help="train each until every fact is recalled (or max_steps)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    gen = load_generator(args.model, cache=False)
    items = load_qa(QA)
    base = preset_from_dict(FACTS, gen.model).config
    out = {}
    for name in args.only:
        config = dataclasses.replace(base, **CHANGES[name])
        out[name] = learn(gen, items, config) if args.learn else step_times(gen, items, config, args.steps)
        print(f"{name:<40} {json.dumps(out[name])}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
