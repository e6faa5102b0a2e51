"""The teacher's room view: hidden without a passcode, refuses a wrong one, shows the queue and load, stops a job."""

from __future__ import annotations

import threading

import pytest
from streamlit.testing.v1 import AppTest

from core.runtime import jobs
from core.room import PASSCODE_ENV, learner_tag, room_snapshot
from tests.helpers import ROOT

PAGE = "pages/10_room.py"


@pytest.fixture
def queue(monkeypatch):
    fresh = jobs.JobQueue()
    monkeypatch.setattr(jobs, "QUEUE", fresh)
    return fresh


def blocking_job(owner: str, run_dir, release: threading.Event) -> jobs.Job:
    def work(ctx):
        step = 0
        while not release.is_set() and not ctx.should_stop():
            step += 1
            ctx.report({"step": step, "loss": 2.0 / step})
            release.wait(0.05)
        return {"status": "stopped"} if ctx.should_stop() else None
    return jobs.Job(owner, run_dir, work, label="lora-test")


def open_room(passcode: str | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.run()
    if passcode is not None:
        at.text_input(key="room_passcode").set_value(passcode)
        next(b for b in at.button if b.label == "Open the room view").click()
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_without_a_passcode_the_room_view_does_not_exist(monkeypatch):
    monkeypatch.delenv(PASSCODE_ENV, raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)


def test_a_wrong_passcode_shows_nothing(monkeypatch, queue):
    monkeypatch.setenv(PASSCODE_ENV, "owl-42")
    at = open_room("owl-41")
    assert any("not right" in e.value for e in at.error)
    assert not at.metric and not at.dataframe


@pytest.mark.slow
def test_the_teacher_sees_the_queue_and_stops_a_job(monkeypatch, queue, tmp_path):
    monkeypatch.setenv(PASSCODE_ENV, "owl-42")
    release = threading.Event()
    sessions = tmp_path / "sessions"
    first = queue.submit(blocking_job(str(sessions / "aaaa"), tmp_path / "run1", release))
    second = queue.submit(blocking_job(str(sessions / "bbbb"), tmp_path / "run2", release))
    try:
        at = open_room("owl-42")
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Training now"] == "1" and metrics["Waiting in the queue"] == "1"
        assert "%" in metrics["CPU (%d cores)" % room_snapshot(queue).cpu_count] and "GB" in metrics["Memory"]
        table = at.dataframe[0].value
        assert list(table["state"]) == ["running", "queued"] and list(table["queue position"].fillna(0)) == [0, 1]
        assert set(table["learner"]) == {learner_tag("aaaa"), learner_tag("bbbb")}
        assert "aaaa" not in " ".join(table["learner"])  # session ids are never shown
        stop = next(b for b in at.button if b.key == f"room_stop_{first}")
        stop.click()
        at.run()
        assert queue.wait(first, 10).state == "stopped"
        assert queue.wait(second, 10).state in ("running", "done")  # the next job starts
    finally:
        release.set()
        queue.wait(second, 10)


def test_wrong_passcodes_back_off_and_the_room_lists_them(monkeypatch, queue):
    import core.room

    monkeypatch.setenv(PASSCODE_ENV, "owl-42")
    monkeypatch.setattr(core.room, "_GATE", core.room.PasscodeGate(allowed=2, base_wait_s=60))
    at = open_room("owl-1")
    for guess in ("owl-2", "owl-42"):  # the second wrong try starts the wait; the right one during it is refused
        at.text_input(key="room_passcode").set_value(guess)
        next(b for b in at.button if b.label == "Open the room view").click()
        at.run()
    assert any("Too many wrong passcodes from this computer" in e.value for e in at.error)
    assert not at.metric
    monkeypatch.setattr(core.room._GATE, "wait_s", lambda client, now=None: 0.0)  # the wait is over
    at.text_input(key="room_passcode").set_value("owl-42")
    next(b for b in at.button if b.label == "Open the room view").click()
    at.run()
    assert at.metric  # in
    tables = [t.value for t in at.dataframe]
    failed = next(t for t in tables if "wrong tries in a row" in t.columns)
    assert list(failed["wrong tries in a row"]) == [2, 1]


def test_the_teacher_sees_sessions_with_data_and_deletes_one(monkeypatch, queue, tmp_path):
    from core.runtime.sessions import claim, new_browser_key, new_session_id

    monkeypatch.setenv(PASSCODE_ENV, "owl-42")
    sessions = tmp_path / "workspace" / "sessions"
    kept = new_session_id()
    claim(sessions, kept, new_browser_key())
    (sessions / kept / "uploads").mkdir(parents=True)
    (sessions / kept / "uploads" / "notes.txt").write_text("a learner's file")
    at = open_room("owl-42")
    table = next(t.value for t in at.dataframe if "files" in t.value.columns)
    assert list(table["learner"]) == [learner_tag(kept)] and kept not in str(at)  # a tag, never the id
    next(b for b in at.button if b.label == f"🗑 Delete {learner_tag(kept)}'s session").click()
    at.run()
    assert not (sessions / kept).exists()
    assert any("Deleted" in s.value for s in at.success)
