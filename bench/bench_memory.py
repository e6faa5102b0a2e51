"""Benchmark memory over a server's life: generators loaded and evicted, five training jobs, one process.

    python bench/bench_memory.py [--jobs 5] [--cycles 4] [--steps 12]

What a workshop server does for hours, compressed: sessions switch the generator
(each switch loads one model and evicts the last) and train adapters one after another
through the job queue. Memory that is never freed shows as RSS that keeps growing after
the first job. Prints the RSS (psutil) before anything loads, after the first job and at
the end, and one JSON object; the target is "end at most 10% above after the first job".
A benchmark, not a timed test: it measures memory, so a busy machine only makes it slower.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.rag.corpora import list_corpora, load_qa  # noqa: E402
from core.finetune import FinetuneConfig  # noqa: E402
from core.finetune.job import submit_training  # noqa: E402
from core.llm.loading import BUILTIN_NAME, load_generator, loaded_generators  # noqa: E402
from core.runtime.jobs import QUEUE  # noqa: E402
from core.runtime.memory import release_memory  # noqa: E402


def rss_mb() -> float:
    """RSS once the queue's worker has let go of the finished job (it frees it just after reporting "done")."""
    import psutil

    time.sleep(1.0)  # a benchmark, not a test: give the worker thread its moment to drop the job
    release_memory()
    return round(psutil.Process().memory_info().rss / 2**20, 1)


def second_model(folder: Path) -> str:
    """A second generator to switch to: a saved copy of the built-in model (offline, same size)."""
    gen = load_generator(BUILTIN_NAME, cache=False)
    gen.model.save_pretrained(folder)
    gen.tokenizer.save_pretrained(folder)
    return str(folder)


def switch_generators(names: list[str], cycles: int) -> None:
    """Load each name in turn, ``cycles`` times: every load evicts the previous generator."""
    for _ in range(cycles):
        for name in names:
            load_generator(name)


def train_once(gen, items, workspace: Path, steps: int) -> str:
    config = FinetuneConfig(max_steps=steps, eval_every=max(1, steps // 2), max_eval_questions=12)
    job_id, _ = submit_training(workspace, workspace / "adapters", gen, items, config)
    status = QUEUE.wait(job_id, timeout=1800)
    return status.state if status else "lost"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=5, help="training jobs, one after another")
    parser.add_argument("--cycles", type=int, default=4, help="generator switches between jobs (each evicts)")
    parser.add_argument("--steps", type=int, default=12, help="optimiser steps per training job")
    args = parser.parse_args()

    corpus = next(c for c in list_corpora() if c.builtin_model_reads)
    items = load_qa(corpus.qa_path)
    before = rss_mb()
    rows = []
    with tempfile.TemporaryDirectory(prefix="lab-bench-memory-") as tmp:
        other = second_model(Path(tmp) / "copy")
        for n in range(1, args.jobs + 1):
            switch_generators([BUILTIN_NAME, other], args.cycles)
            gen = load_generator(BUILTIN_NAME)
            state = train_once(gen, items, Path(tmp) / f"ws{n}", args.steps)
            del gen
            rows.append({"job": n, "state": state, "rss_mb": rss_mb(), "loaded": loaded_generators()})
            print(f"after job {n}: {state}, RSS {rows[-1]['rss_mb']} MB, loaded {rows[-1]['loaded']}", flush=True)
    first, end = rows[0]["rss_mb"], rss_mb()
    growth = (end - first) / first
    print(f"RSS before {before} MB · after the first job {first} MB · at the end {end} MB "
          f"({growth:+.1%} since the first job; target at most +10%)")
    print(json.dumps({"before_mb": before, "after_first_job_mb": first, "end_mb": end, "growth_since_first": round(growth, 4),
                      "within_10_percent": growth <= 0.10, "jobs": rows, "cycles": args.cycles,
                      "steps": args.steps}))


if __name__ == "__main__":
    main()
