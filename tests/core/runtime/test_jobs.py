"""The background job queue: one job at a time, queue positions, stop, failures, state on disk."""

from __future__ import annotations

import json
import threading

import pytest

from core.runtime.jobs import Job, JobQueue, status_from_disk, task_job


def blocking_work(started: threading.Event, release: threading.Event):
    def work(ctx):
        started.set()
        step = 0
        while not release.is_set() and not ctx.should_stop():
            step += 1
            ctx.report({"step": step})
            release.wait(0.01)
        return {"status": "stopped"} if ctx.should_stop() else {}
    return work


@pytest.fixture
def queue():
    return JobQueue()


def test_one_job_at_a_time_with_positions(queue, tmp_path):
    started, release = threading.Event(), threading.Event()
    first = queue.submit(Job("me", tmp_path / "a", blocking_work(started, release)))
    assert started.wait(5)
    second = queue.submit(Job("me", tmp_path / "b", lambda ctx: None))
    third = queue.submit(Job("you", tmp_path / "c", lambda ctx: None))
    assert queue.status(first).state == "running" and queue.status(first).metrics["step"] >= 1
    assert [(queue.status(j).state, queue.status(j).position) for j in (second, third)] == [("queued", 1), ("queued", 2)]
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["status"] == "queued"
    assert {s.id for s in queue.jobs("me")} == {first, second}
    release.set()
    assert queue.wait(third, 10).state == "done"
    assert [queue.status(j).state for j in (first, second, third)] == ["done", "done", "done"]


def test_stop_running_and_queued(queue, tmp_path):
    started, release = threading.Event(), threading.Event()
    running = queue.submit(Job("me", tmp_path / "a", blocking_work(started, release)))
    assert started.wait(5)
    waiting = queue.submit(Job("me", tmp_path / "b", lambda ctx: None))
    assert queue.stop(waiting) and queue.status(waiting).state == "stopped"
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["status"] == "stopped"
    assert queue.stop(running)
    assert queue.wait(running, 10).state == "stopped"
    assert not queue.stop(running)  # already finished


def test_failure_is_reported_in_words_and_on_disk(queue, tmp_path):
    def boom(ctx):
        raise RuntimeError("out of memory")

    job = queue.submit(Job("me", tmp_path / "a", boom))
    st = queue.wait(job, 10)
    assert (st.state, st.message) == ("failed", "RuntimeError: out of memory")
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["status"] == "failed"
    after = queue.submit(Job("me", tmp_path / "b", lambda ctx: None))  # the worker survives a failed job
    assert queue.wait(after, 10).state == "done"


@pytest.mark.parametrize("on_disk, expected", [("running", "interrupted"), ("queued", "interrupted"),
                                               ("done", "done"), ("failed", "failed")])
def test_state_from_disk_after_restart(tmp_path, on_disk, expected):
    (tmp_path / "metrics.json").write_text(json.dumps({"status": on_disk}))
    assert status_from_disk(tmp_path) == expected


def test_an_evaluation_does_not_wait_behind_training(queue, tmp_path):
    """Two lanes: a job on the "eval" lane runs while the "train" lane is busy; each lane keeps its own order."""
    started, release = threading.Event(), threading.Event()
    training = queue.submit(Job("me", tmp_path / "a", blocking_work(started, release)))
    assert started.wait(5)
    queued_training = queue.submit(Job("me", tmp_path / "b", lambda ctx: None))
    evaluation = queue.submit(task_job("me", "batch evaluation", lambda progress, stop: (progress(2, 2), "scores")[1]))
    done = queue.wait(evaluation, 10)
    assert (done.state, done.result, done.metrics, done.lane) == ("done", "scores", {"done": 2, "total": 2}, "eval")
    assert queue.status(training).state == "running" and queue.status(queued_training).position == 1
    assert [s.id for s in queue.live("me")] == [training, queued_training]
    release.set()
    assert queue.wait(queued_training, 10).state == "done" and queue.live("me") == []


def test_a_stopped_task_keeps_its_partial_result_and_a_failed_one_says_why(queue):
    from core.errors import Cancelled

    started, release = threading.Event(), threading.Event()

    def work(progress, should_stop):
        rows = []
        started.set()
        while not should_stop():  # one row per step until stopped
            rows.append(len(rows))
            progress(len(rows), 0)
            release.wait(0.01)
        exc = Cancelled("stopped")
        exc.partial = rows
        raise exc

    job = queue.submit(task_job("me", "eval", work))
    assert started.wait(5) and queue.stop(job)
    st = queue.wait(job, 10)
    assert st.state == "stopped" and isinstance(st.result, list)
    failed = queue.wait(queue.submit(task_job("me", "eval", lambda p, s: 1 / 0)), 10)
    assert failed.state == "failed" and failed.message.startswith("ZeroDivisionError")


def test_finished_jobs_keep_their_status_not_their_work(queue, tmp_path):
    """A training job's ``work`` holds the model, tokenizer and documents: it must go when the job ends."""
    import gc
    import weakref

    class Model:  # stands in for the weights the closure holds
        pass

    model = Model()
    held = weakref.ref(model)

    def work(ctx, model=model):
        return {"seen": type(model).__name__}

    job = queue.submit(Job("me", tmp_path / "a", work))
    del model, work
    assert queue.wait(job, 10).state == "done" and queue.status(job).result == {"seen": "Model"}
    gc.collect()
    assert held() is None


def test_the_room_lists_an_evaluation_job_beside_training(queue):
    from core.room import job_row

    done = queue.wait(queue.submit(task_job("ws/sessions/abc", "batch evaluation", lambda p, s: "ok")), 10)
    row = job_row(done)
    assert (row.label, row.state) == ("batch evaluation", "done") and row.seconds is not None


# --- a job's spec in its run folder: a retry survives an app restart ---------------------------------------

def test_specs_round_trip_through_json_and_only_rebuild_core_classes(tmp_path):
    from core.evaluation_job import EvaluationSpec
    from core.finetune import FinetuneConfig
    from core.finetune.job import TrainingSpec
    from core.rag.corpora import QAItem
    from core.rag.documents import Document
    from core.runtime.specs import load_spec, save_spec

    item = QAItem("Who owns it?", "Ada owns it.", "Ada", ("Whose is it?",), extra={"entity": "it"})
    training = TrainingSpec("lab-tiny-lm", (item,), FinetuneConfig(max_steps=3, target_modules=("c_attn",)),
                            str(tmp_path), {"a.txt": "Ada owns it."}, (item,), memory_mb=900.0)
    evaluation = EvaluationSpec("lab-tiny-lm", (Document("d1", "a.txt", "Ada owns it.", {"page_starts": [0]}),),
                                (item,), {"lora": str(tmp_path / "ad")}, str(tmp_path), paraphrases=1)
    for spec in (training, evaluation):
        save_spec(tmp_path, {"owner": "me", "spec": spec})
        assert load_spec(tmp_path)["spec"] == spec
    for name in ("subprocess:Popen", "core.runtime.workspace:Workspace"):  # a side effect when built
        (tmp_path / "job.json").write_text(json.dumps({"spec": {"__class__": name, "root": str(tmp_path / "x")}}))
        assert load_spec(tmp_path) is None and not (tmp_path / "x").exists()
    from core.runtime.specs import SPEC_TYPES, decode
    for name in SPEC_TYPES:  # every allowed name still points at its class (a rename would break old job.json files)
        with pytest.raises(TypeError):  # found, then refused for its missing arguments
            decode({"__class__": name, "no_such_field": 1})


def test_retry_run_needs_a_saved_spec_and_a_run_that_did_not_finish(queue, tmp_path):
    from core.runtime.jobs import can_retry

    done = queue.wait(queue.submit(Job("me", tmp_path / "a", lambda ctx: None)), 10)
    assert done.state == "done" and not can_retry(tmp_path / "a")  # no spec: only this process could rerun it
    assert queue.retry_run(tmp_path / "a") is None


@pytest.mark.slow
def test_a_run_whose_server_died_is_retried_from_its_saved_spec_by_a_fresh_queue(tmp_path):
    """A server process starts a training job and is killed mid-run; a fresh JobQueue (a restarted server)
    reads the run's job.json and trains it again, to the end, in the same folder."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from core.runtime.jobs import can_retry
    from tests.helpers import ROOT

    run_dir = tmp_path / "adapters" / "run"
    server = f"""
import sys, time
from core.finetune import FinetuneConfig
from core.finetune.job import training_job
from core.llm.loading import load_generator
from core.rag.corpora import list_corpora, load_qa
from core.runtime import jobs
gen = load_generator()
corpus = next(c for c in list_corpora() if c.builtin_model_reads)
job = training_job("me", {str(run_dir)!r}, gen.model, gen.tokenizer, load_qa(corpus.qa_path)[:6],
                   FinetuneConfig(max_steps=4, eval_every=2), base_name=gen.name, label="restart-me")
jobs.submit(job)
time.sleep(600)  # killed long before
"""
    proc = subprocess.Popen([sys.executable, "-c", server], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 300
        while not (run_dir / "job.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert can_retry(run_dir), "the spec was not written"
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # the server is gone, mid-run or before its first step
        proc.wait()
    assert status_from_disk(run_dir) == "interrupted"

    fresh = JobQueue()  # a restarted server: it never saw the job
    job = fresh.retry_run(run_dir)
    assert job is not None
    final = fresh.wait(job, 600)
    assert final.state == "done", final.message
    assert (final.label, final.owner, final.result["steps"]) == ("restart-me", "me", 4)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "done" and metrics["runner"] == "local" and len(metrics["steps"]) == 4
    assert (run_dir / "adapter_model.safetensors").exists()
    assert fresh.retry_run(run_dir) is None  # a finished run is not retried


def test_a_finished_job_is_timed_for_the_next_estimate_and_its_bar_follows_the_one_rule(queue, tmp_path, monkeypatch):
    import time

    from core.runtime.jobs import job_progress
    from core.runtime.timings import server_timings

    monkeypatch.setenv("RAGFT_WORKSPACE", str(tmp_path))
    assert server_timings().estimate("test answers", 4) is None

    def work(ctx):
        ctx.report({"done": 2, "total": 4})
        time.sleep(0.6)  # over MIN_SECONDS: a measurement, not a cache hit

    first = queue.wait(queue.submit(Job("me", None, work, measure=("test answers", 4))), 10)
    assert first.state == "done" and server_timings().estimate("test answers", 8) >= 1.2  # twice the answers
    progress = job_progress(first)
    assert (progress.done, progress.total, progress.fraction) == (2, 4, 0.5) and progress.expected >= 0.6


def test_a_run_folder_says_queued_then_running_where_then_done(queue, tmp_path):
    """What another web server over the same workspace reads from metrics.json: the run's state and its runner,
    for any job with a run folder (an evaluation writes nothing else there until it ends)."""
    import os

    seen = {}

    def work(ctx):
        seen.update(json.loads((tmp_path / "run" / "metrics.json").read_text()))
        return {}

    status = queue.wait(queue.submit(Job("me", tmp_path / "run", work, lane="eval")), 30)
    assert status.state == "done"
    assert (seen["status"], seen["runner"], seen["worker_pid"]) == ("running", "local", os.getpid())
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"] == "done"
