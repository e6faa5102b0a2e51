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
