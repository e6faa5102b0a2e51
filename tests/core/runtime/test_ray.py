"""Jobs on a real Ray cluster (no mock): a local head on loopback with 2 CPUs, shut down after the module.

Training runs on the built-in tiny LM over a fresh 4-entity world (20 Q&A rows): tens of seconds each.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from core.finetune import FinetuneConfig
from core.finetune.job import submit_training, training_job
from core.rag.corpora import load_qa
from core.room import room_snapshot
from core.runtime.executor import LocalExecutor
from core.runtime.ray_executor import executor_for
from core.runtime.jobs import Job, JobQueue, status_from_disk
from tests.helpers import ROOT

ray = pytest.importorskip("ray")
QUICK = FinetuneConfig(max_steps=30, eval_every=10)
LONG = FinetuneConfig(max_steps=2000, eval_every=1000)  # runs until stopped or killed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """A local Ray head (2 CPUs, no dashboard), started by this process and always shut down; its GCS address."""
    context = ray.init(num_cpus=2, include_dashboard=False, object_store_memory=150 * 1024**2,
                       log_to_driver=False, configure_logging=False)
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    subprocess.run([sys.executable, "-m", "core", "world", "--seed", "31", "--entities", "4", "--out", str(out)],
                   check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)
    return out


@pytest.fixture(scope="module")
def tiny():
    from core.llm.loading import load_generator

    return load_generator()


def job_for(tiny, world, run_dir, config) -> Job:
    return training_job("tester", run_dir, tiny.model, tiny.tokenizer, load_qa(world / "qa.jsonl"), config,
                        base_name=tiny.name)


def wait_for(predicate, timeout: float = 300.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def cli(*args, env_extra: dict | None = None) -> tuple[int, int, str, str]:
    """(the CLI's pid, exit status, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "RAGFT_RAY_ADDRESS"}
    env.update(PYTHONPATH=str(ROOT), **(env_extra or {}))
    proc = subprocess.Popen([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=900)
    return proc.pid, proc.returncode, out, err


def test_an_unreachable_cluster_is_one_line_and_jobs_run_locally():
    said = []
    executor = executor_for(f"127.0.0.1:{free_port()}", say=said.append)
    assert isinstance(executor, LocalExecutor) and len(said) == 1 and "cannot be reached" in said[0]
    assert "jobs run locally" in executor.notice
    queue = JobQueue(executor)
    job = queue.submit(Job("me", None, lambda ctx: {"ok": 1}))
    status = queue.wait(job, 10)
    assert (status.state, status.runner, status.worker_pid) == ("done", "local", os.getpid())


@pytest.mark.slow
def test_cli_finetune_on_an_unreachable_cluster_says_one_line_and_trains_here(world, tmp_path):
    out = tmp_path / "run"
    pid, code, stdout, stderr = cli("finetune", "--qa", str(world / "qa.jsonl"), "--out", str(out), "--steps", "2",
                                    "--eval-every", "2", "--json", "--ray", f"127.0.0.1:{free_port()}")
    assert code == 0, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot be reached" in lines[0] and "locally" in lines[0], stderr
    summary = json.loads(stdout)
    assert (summary["runner"], summary["worker_pid"]) == ("local", pid)
    assert json.loads((out / "metrics.json").read_text())["runner"] == "local"


@pytest.mark.slow
def test_a_training_job_on_ray_streams_stops_and_lands_its_adapter(cluster, world, tiny, tmp_path):
    from core.runtime.ray_executor import RayExecutor

    shared = JobQueue(RayExecutor.connect(cluster))
    unshared = JobQueue(replace(RayExecutor.connect(cluster), share_folder=False))  # files come back by value
    quick = unshared.submit(job_for(tiny, world, tmp_path / "quick", QUICK))
    long = shared.submit(job_for(tiny, world, tmp_path / "long", LONG))

    running = wait_for(lambda: (s := shared.status(long)).state == "running" and (s.metrics.get("step") or 0) >= 3
                       and s)  # live curves reach the driver while it trains
    assert running.runner == "ray" and running.worker_pid not in (None, os.getpid())
    room = room_snapshot(shared)  # the teacher's view of the cluster
    assert room.runner == "ray" and room.cluster.nodes == 1 and room.cluster.cpus_total == 2
    assert room.cluster.cpus_in_use >= 1 and [j.state for j in room.jobs] == ["running"]
    assert shared.stop(long)
    stopped = shared.wait(long, 300)
    assert stopped.state == "stopped" and stopped.result["status"] == "stopped"
    on_disk = json.loads((tmp_path / "long" / "metrics.json").read_text())
    assert on_disk["status"] == "stopped" and on_disk["runner"] == "ray" and len(on_disk["steps"]) >= 3
    assert (tmp_path / "long" / "adapter_model.safetensors").exists()

    done = unshared.wait(quick, 600)
    assert done.state == "done", done.message
    assert done.result["facts_recalled"] >= 0.8 and done.worker_pid != os.getpid()
    metrics = json.loads((tmp_path / "quick" / "metrics.json").read_text())
    assert metrics["status"] == "done" and metrics["runner"] == "ray" and metrics["peak_rss_mb"] > 0
    assert len(metrics["evals"]) >= 3 and (tmp_path / "quick" / "adapter_model.safetensors").exists()


@pytest.mark.slow
def test_a_job_failing_on_a_worker_shows_its_own_message(cluster, world, tiny, tmp_path):
    from core.runtime.ray_executor import RayExecutor

    queue = JobQueue(RayExecutor.connect(cluster))
    bad = replace(QUICK, target_modules=("no_such_layer",))
    job = job_for(tiny, world, tmp_path / "bad", bad)
    status = queue.wait(queue.submit(replace(job, work=None)), 300)
    assert status.state == "failed"
    assert status.message.startswith("target_modules no_such_layer not in this model"), status.message
    assert "Ray" not in status.message and "Traceback" not in status.message


@pytest.mark.slow
def test_a_worker_killed_mid_run_leaves_the_run_interrupted_with_a_retry(cluster, world, tiny, tmp_path, monkeypatch):
    from core.runtime import jobs
    from core.runtime.ray_executor import RayExecutor

    queue = JobQueue(RayExecutor.connect(cluster))
    monkeypatch.setattr(jobs, "QUEUE", queue)  # as a server started with RAGFT_RAY_ADDRESS has it
    first, run_dir = submit_training(tmp_path, tmp_path / "adapters", tiny, load_qa(world / "qa.jsonl"), LONG)
    running = wait_for(lambda: (s := queue.status(first)).state == "running" and (s.metrics.get("step") or 0) >= 1
                       and s)
    os.kill(running.worker_pid, signal.SIGKILL)
    lost = queue.wait(first, 120)
    assert lost.state == "interrupted" and "retry" in lost.message
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "interrupted"
    assert status_from_disk(run_dir) == "interrupted"

    again = queue.retry(first)
    rerun = wait_for(lambda: (s := queue.status(again)).state == "running" and (s.metrics.get("step") or 0) >= 1
                     and s)
    assert rerun.worker_pid != running.worker_pid
    assert queue.stop(again) and queue.wait(again, 300).state == "stopped"


@pytest.mark.slow
def test_cli_finetune_runs_in_a_ray_worker_and_recalls_a_fresh_world(cluster, world, tmp_path):
    out = tmp_path / "adapter"
    pid, code, stdout, stderr = cli("finetune", "--qa", str(world / "qa.jsonl"), "--docs", str(world / "docs"),
                                    "--out", str(out), "--steps", "30", "--json",
                                    env_extra={"RAGFT_RAY_ADDRESS": cluster})
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["runner"] == "ray" and summary["worker_pid"] not in (None, pid, os.getpid())
    assert summary["facts_recalled"] >= 0.8 and summary["status"] == "done"
    assert (out / "adapter_model.safetensors").exists() and json.loads((out / "metrics.json").read_text())["runner"] == "ray"


@pytest.mark.slow
def test_cli_eval_runs_in_a_ray_worker(cluster, world):
    pid, code, stdout, stderr = cli("eval", "--docs", str(world / "docs"), "--qa", str(world / "qa.jsonl"),
                                    "--limit", "2", "--json", "--ray", cluster)
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["runner"] == "ray" and result["worker_pid"] not in (None, pid)
    assert result["systems"]["rag"]["n"] == 2 and result["complete"]


def evaluation_for(tiny, world, run_dir, n_questions: int, paraphrases: int):
    """The Experiments page's batch evaluation (base, RAG, long context) as a job with its spec."""
    from core.answering import Answerer
    from core.evaluation_job import evaluation_job, evaluation_spec, evaluation_systems
    from core.rag.documents import load_paths
    from core.rag.embedding import load_embedder
    from core.rag.retrieval import Retriever

    docs = load_paths([world / "docs"])
    retriever = Retriever.build(docs, load_embedder())
    items = load_qa(world / "qa.jsonl")[:n_questions]
    systems = evaluation_systems(Answerer(tiny, retriever, documents=docs), {})
    spec = evaluation_spec(tiny.name, tiny.n_params, docs, items, {}, run_dir, retriever, paraphrases=paraphrases)
    return evaluation_job("tester", run_dir, systems, items, paraphrases=paraphrases, embedder=retriever.embedder,
                          spec=spec)


@pytest.mark.slow
def test_an_evaluation_on_ray_streams_stops_and_lands_its_result(cluster, world, tiny, tmp_path):
    """The evaluation lane on the cluster: live answers counted, Stop keeps the partial rows, and the finished
    run's result.json comes back to a workspace the worker does not share."""
    from core.evaluation_job import load_result
    from core.runtime.jobs import job_progress
    from core.runtime.ray_executor import RayExecutor

    shared = JobQueue(RayExecutor.connect(cluster))
    unshared = JobQueue(replace(RayExecutor.connect(cluster), share_folder=False))
    long = shared.submit(replace(evaluation_for(tiny, world, tmp_path / "long", 20, 3), work=None))
    short = unshared.submit(replace(evaluation_for(tiny, world, tmp_path / "short", 2, 0), work=None))

    running = wait_for(lambda: (s := shared.status(long)).state == "running" and (s.metrics.get("done") or 0) >= 2
                       and s)  # answers counted on the worker reach the driver
    assert running.runner == "ray" and running.worker_pid not in (None, os.getpid())
    total = running.metrics["total"]
    assert total >= 20 * 3 and job_progress(running).left is not None  # 20 questions (+ paraphrases) × 3 systems
    assert shared.stop(long)
    stopped = shared.wait(long, 300)
    assert stopped.state == "stopped" and 2 <= len(stopped.result.rows) < total and not stopped.result.complete
    assert not load_result(tmp_path / "long").complete  # the partial rows are in the workspace too
    assert json.loads((tmp_path / "long" / "metrics.json").read_text())["status"] == "stopped"

    done = unshared.wait(short, 600)
    assert done.state == "done", done.message
    assert done.worker_pid != os.getpid() and done.result.systems["rag"]["n"] == 2
    assert load_result(tmp_path / "short").systems == done.result.systems  # sent back: the worker wrote elsewhere
    metrics = json.loads((tmp_path / "short" / "metrics.json").read_text())
    assert (metrics["status"], metrics["runner"]) == ("done", "ray")
    assert (tmp_path / "short" / "job.json").exists()  # its spec: a retry after a restart rebuilds it


@pytest.mark.slow
def test_the_document_training_sweep_runs_in_a_ray_worker(cluster, world, tiny):
    """The Experiments page's sweep (LoRA on the documents, then every question closed book) is a job with a spec
    too: on a cluster a worker loads the model and runs it, and its rows come back as the job's result."""
    from core.experiments import document_training_job
    from core.rag.corpora import get_corpus
    from core.runtime.ray_executor import RayExecutor

    queue = JobQueue(RayExecutor.connect(cluster))
    corpus = get_corpus(world.name, world.parent)
    status = queue.wait(queue.submit(document_training_job("tester", tiny, corpus, [0, 1], max_steps=2)), 600)
    assert status.state == "done", status.message
    assert status.runner == "ray" and status.worker_pid not in (None, os.getpid())
    assert [row["rewrites"] for row in status.result] == [0, 1]
    assert all(0.0 <= row["accuracy"] <= 1.0 for row in status.result)
