"""The same training jobs through the in-process queue and through a local Ray cluster: wall time, per-job
overhead of Ray, peak memory.

    PYTHONPATH=. python bench/bench_ray.py [--jobs 6] [--steps 30] [--cpus 2] [--json out.json]

Each job is a LoRA run of the built-in tiny LM on a fresh 4-entity world (20 Q&A rows). The local
queue runs them one after another in this process (today's default); the Ray cluster (started here
with ``--cpus`` CPUs, shut down at the end) runs as many at once as it has CPUs.

Per-job overhead = a job's wall time minus the run's own training and evaluation seconds: for the
local queue, the time between one job's end and the next's (building the data, saving); for Ray,
one job alone on the idle cluster from hand-over to result back (starting the actor's process,
imports, loading the model on the worker, polling, saving). Peak
memory = the highest sampled resident memory of this process plus every process it started (Ray's
GCS, raylet and workers included). On one 2-core machine the ratio is expected near 1: the point
is that the path is real and its cost known. Write the load (``/proc/loadavg``) next to any number.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class TreeRSS:
    """Samples the resident memory of this process and all its descendants (MB) every ``every_s``."""

    def __init__(self, every_s: float = 0.5) -> None:
        self.every_s, self.peak_mb, self._stop = every_s, 0.0, threading.Event()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak_mb = max(self.peak_mb, total / 1e6)
            self._stop.wait(self.every_s)

    def __enter__(self) -> "TreeRSS":
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def make_world(folder: Path) -> list:
    from core.rag.corpora import load_qa

    subprocess.run([sys.executable, "-m", "core", "world", "--seed", "41", "--entities", "4", "--out", str(folder)],
                   check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)
    return load_qa(folder / "qa.jsonl")


def run_all(queue, jobs: list) -> dict:
    """Submit every job at once, wait for all; wall time, per-job times and results."""
    start = time.perf_counter()
    handed = {}
    ids = []
    for job in jobs:
        handed[job.id] = time.perf_counter()
        ids.append(queue.submit(job))
    ends = {}
    while len(ends) < len(ids):
        for job_id in ids:
            if job_id not in ends and queue.status(job_id).state not in ("queued", "running"):
                ends[job_id] = time.perf_counter()
        time.sleep(0.1)
    statuses = [queue.status(i) for i in ids]
    bad = [s.message for s in statuses if s.state != "done"]
    if bad:
        raise SystemExit(f"a job did not finish: {bad}")
    return {"wall_s": round(time.perf_counter() - start, 1), "statuses": statuses, "ends": ends, "handed": handed}


def sequential_walls(batch: dict) -> list[float]:
    """Each job's own wall time in a queue that runs them one after another (from the previous job's end)."""
    ends = [batch["ends"][s.id] for s in batch["statuses"]]
    starts = [min(batch["handed"].values()), *ends[:-1]]
    return [end - start for start, end in zip(starts, ends)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    import ray

    from core.finetune import FinetuneConfig
    from core.finetune.job import training_job
    from core.llm.loading import load_generator
    from core.runtime.executor import LocalExecutor
    from core.runtime.jobs import JobQueue
    from core.runtime.ray_executor import RayExecutor

    tmp = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    os.environ["RAGFT_WORKSPACE"] = str(tmp / "workspace")
    items = make_world(tmp / "world")
    gen = load_generator()
    config = FinetuneConfig(max_steps=args.steps, eval_every=10)

    def jobs(tag: str) -> list:
        return [training_job("bench", tmp / tag / f"job{i}", gen.model, gen.tokenizer, items, config,
                             base_name=gen.name) for i in range(args.jobs)]

    report: dict = {"jobs": args.jobs, "steps": args.steps, "cpus": args.cpus, "load_before": os.getloadavg()}
    with TreeRSS() as memory:
        local = run_all(JobQueue(LocalExecutor()), jobs("local"))
    report["local"] = {"wall_s": local["wall_s"], "peak_mb": round(memory.peak_mb),
                       "train_and_eval_s": [s.result["seconds"] for s in local["statuses"]],
                       "recalled": [s.result["facts_recalled"] for s in local["statuses"]],
                       "load_after": os.getloadavg()}

    with TreeRSS() as memory:
        started = time.perf_counter()
        context = ray.init(num_cpus=args.cpus, include_dashboard=False, object_store_memory=150 * 1024**2,
                           log_to_driver=False, configure_logging=False)
        try:
            cluster_start_s = round(time.perf_counter() - started, 1)
            queue = JobQueue(RayExecutor.connect(context.address_info["gcs_address"]))
            alone = run_all(queue, jobs("alone")[:1])  # one job on the idle cluster: Ray's own per-job overhead
            remote = run_all(queue, jobs("ray"))
        finally:
            ray.shutdown()
    statuses, single = remote["statuses"], alone["statuses"][0]
    report["local"]["overhead_s"] = [round(gap - s.result["seconds"], 2)
                                     for gap, s in zip(sequential_walls(local), local["statuses"])]
    report["ray"] = {"wall_s": remote["wall_s"], "cluster_start_s": cluster_start_s, "peak_mb": round(memory.peak_mb),
                     "overhead_s_alone": round(alone["wall_s"] - single.result["seconds"], 2),
                     "alone_wall_s": alone["wall_s"], "alone_train_and_eval_s": single.result["seconds"],
                     "work_s": [s.result["work_seconds"] for s in statuses],
                     "train_and_eval_s": [s.result["seconds"] for s in statuses],
                     "recalled": [s.result["facts_recalled"] for s in statuses],
                     "worker_peak_mb": [s.result["peak_rss_mb"] for s in statuses],
                     "load_after": os.getloadavg()}
    report["ratio_ray_to_local"] = round(remote["wall_s"] / local["wall_s"], 2)
    print(json.dumps(report["local"]), flush=True)
    print(json.dumps(report["ray"]), flush=True)
    print(json.dumps({"ratio_ray_to_local": report["ratio_ray_to_local"]}), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
