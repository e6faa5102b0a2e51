"""The background job queue: one job at a time, queue positions, stop, failures, state on disk."""

from __future__ import annotations

import json
import threading

import pytest

from core.runtime.jobs import Job, JobQueue, status_from_disk


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
