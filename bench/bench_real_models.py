"""Benchmark LoRA training of real-sized models on this CPU: seconds per step, peak RSS, projected run time.

    python bench/bench_real_models.py [--models smollm2-135m qwen2.5-0.5b] [--corpus world_arcade] [--steps 3]

No hub is reachable here, so each model is a local folder with the REAL architecture and
shape (SmolLM2-135M: Llama, hidden 576, 30 layers, 9 heads, 3 KV heads, vocabulary 49,152;
Qwen2.5-0.5B: Qwen2, hidden 896, 24 layers, 14 heads, 2 KV heads, vocabulary 151,936) and
random weights, built once under ``--workdir`` by ``tests/tiny_models.py``. Its tokenizer is a
4,000-token BPE trained on the sample data: it splits text into MORE tokens than the real one,
so the times below are, if anything, pessimistic. Compute per token does not depend on the weights.

For each model, in its own process (so peak RSS is that model's alone):

1. load it the way the Lab does (``core.llm.loading.load_generator``), take its preset
   (``--preset``; the default for a real model is "quick": 20 facts, q/v at rank 4);
2. ``core.finetune.presets.calibrate``: one real step and a small evaluation, measured;
3. ``--steps`` more real optimiser steps (median seconds), as ``python -m core finetune`` runs them
   (the loaded model is trained in place, no second copy);
4. projected training = steps × median step + evaluations × measured evaluation time.
   Wall seconds depend on what else the machine runs; CPU seconds per step are also reported.

Prints one JSON object per model; nothing is estimated except the projection's arithmetic.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHAPES = {  # the real models' configs (random weights)
    "smollm2-135m": dict(arch="llama", hidden=576, layers=30, heads=9, kv_heads=3, ffn=1536, vocab=49152,
                         positions=8192),
    "qwen2.5-0.5b": dict(arch="qwen2", hidden=896, layers=24, heads=14, kv_heads=2, ffn=4864, vocab=151936,
                         positions=32768),
}
TOKENIZER_VOCAB = 4000


def build(name: str, workdir: Path) -> Path:
    from tests.tiny_models import build as build_folder

    folder = workdir / name
    if not (folder / "config.json").exists():
        shape = dict(SHAPES[name])
        build_folder(shape.pop("arch"), folder, tokenizer_vocab=TOKENIZER_VOCAB, **shape)
    return folder


def measure(name: str, folder: Path, corpus_name: str, preset_name: str, n_steps: int) -> dict:
    import torch

    from core.rag.corpora import get_corpus, load_qa
    from core.finetune import batch_plan, prepare_model, training_threads
    from core.finetune.data import build_data, read_documents
    from core.finetune.presets import calibrate, planned_evals, preset_named
    from core.finetune.step import train_step
    from core.runtime.memory import PeakRSS
    from core.llm.loading import load_generator
    from core.runtime.threads import torch_threads

    gen = load_generator(str(folder), cache=False)
    preset = preset_named(gen.model, gen.profile, preset_name)
    config = preset.config
    corpus = get_corpus(corpus_name)
    data = build_data(gen.tokenizer, load_qa(corpus.qa_path), config, read_documents([str(corpus.docs_path)]),
                      seq2seq=gen.is_seq2seq, style=gen.profile.prompt)
    estimate = calibrate(gen.model, gen.tokenizer, data, config)
    print(f"{name}: calibration {estimate}", file=sys.stderr, flush=True)
    plan = batch_plan(len(data.train), config)
    times, cpu = [], []
    with torch_threads(training_threads()), PeakRSS() as memory:
        model = prepare_model(gen.model, config, copy_base=False)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
        for step in range(n_steps):
            c0 = time.process_time()
            row = train_step(model, optimizer, data.train, plan[step % len(plan)][1], config.learning_rate,
                             gen.tokenizer.pad_token_id, config.micro_batch_size)
            times.append(row["seconds"])
            cpu.append(time.process_time() - c0)
            print(f"{name}: step {step + 1} {row}", file=sys.stderr, flush=True)
    per_step = statistics.median(times) if times else estimate.seconds_per_step
    n_evals = planned_evals(len(plan), config.eval_every)
    projected = len(plan) * per_step + n_evals * estimate.seconds_per_eval
    cpu_step = statistics.median(cpu) if cpu else estimate.cpu_seconds_per_step
    projected_cpu = len(plan) * cpu_step + n_evals * estimate.cpu_seconds_per_eval
    tokens = [len(ex.input_ids) for ex in data.train]
    return {"model": name, "shape": SHAPES[name], "params_m": round(gen.n_params / 1e6, 1), "preset": preset.name,
            "config": {k: v for k, v in config.to_dict().items() if k in (
                "rank", "target_modules", "learning_rate", "max_steps", "batch_size", "micro_batch_size",
                "max_facts", "eval_every", "max_eval_questions", "stop_at_recall", "gradient_checkpointing")},
            "facts": len(data.train_items), "examples": len(data.train), "mean_tokens": round(statistics.mean(tokens), 1),
            "torch_threads": training_threads(), "calibration": estimate.to_dict(),
            "seconds_per_step": round(per_step, 2), "steps_timed": len(times),
            "cpu_seconds_per_step": round(cpu_step, 2), "steps": len(plan), "evals": n_evals,
            "seconds_per_eval": estimate.seconds_per_eval, "projected_train_seconds": round(projected, 1),
            "cpu_seconds_per_eval": estimate.cpu_seconds_per_eval,
            "projected_train_cpu_seconds": round(projected_cpu, 1),  # on an idle core: what a laptop user waits
            "peak_rss_gb_training": round(memory.peak_mb / 1000, 2),
            "peak_rss_gb_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument("--corpus", default="world_arcade")
    parser.add_argument("--preset", default="auto", help="auto (quick for a real model), quick or thorough")
    parser.add_argument("--steps", type=int, default=3, help="optimiser steps to time after the calibration")
    parser.add_argument("--workdir", default="/tmp/lab-bench-models", help="where the model folders are built")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: measure one model in this process
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    if args.one:
        print(json.dumps(measure(args.one, workdir / args.one, args.corpus, args.preset, args.steps)))
        return 0
    results = []
    for name in args.models:
        t = time.perf_counter()
        build(name, workdir)  # in this process; the measuring process below starts fresh
        print(f"{name}: folder ready in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, "--one", name, "--corpus", args.corpus, "--preset", args.preset,
                              "--steps", str(args.steps), "--workdir", str(workdir)],
                             capture_output=True, text=True, cwd=ROOT)
        sys.stderr.write(out.stderr[-4000:])
        if out.returncode != 0:
            results.append({"model": name, "error": out.stderr.strip().splitlines()[-1:]})
            continue
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
