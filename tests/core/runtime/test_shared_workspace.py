"""Several web servers over one workspace folder: file-locked updates lose nothing, and a run that another
server's process is training reads as live there, not as interrupted."""

from __future__ import annotations

import json
import multiprocessing
import sys
from pathlib import Path

from core.runtime.jobs import LOCK_FILE, status_from_disk
from core.runtime.workspace import held_elsewhere
from core.runtime.timings import Timings
from core.runtime.workspace import update_json


def _count(path: str, times: int) -> None:
    for _ in range(times):
        update_json(path, lambda d: {"n": (d or {}).get("n", 0) + 1}, {})


def _record(path: str, times: int) -> None:
    for _ in range(times):
        Timings(path).record("op", 1.0)


def _hold_run(run_dir: str, ready, release) -> None:
    from core.runtime.jobs import LOCK_FILE
    from core.runtime.workspace import hold_lock

    handle = hold_lock(Path(run_dir) / LOCK_FILE)
    ready.set()
    release.wait(30)
    handle.close()


def run_in_processes(target, *args, n: int = 2) -> None:
    ctx = multiprocessing.get_context("fork" if sys.platform != "darwin" else "spawn")
    procs = [ctx.Process(target=target, args=args) for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0


def test_two_processes_updating_one_file_lose_no_update(tmp_path):
    path = tmp_path / "counter.json"
    run_in_processes(_count, str(path), 200)
    assert json.loads(path.read_text()) == {"n": 400}


def test_timings_from_two_servers_count_every_run(tmp_path):
    path = tmp_path / "timings.json"
    run_in_processes(_record, str(path), 50)
    assert json.loads(path.read_text())["op"]["runs"] == 100


def test_a_run_live_in_another_server_is_not_interrupted(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "metrics.json").write_text(json.dumps({"status": "running"}))
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold_run, args=(str(run_dir), ready, release))
    other.start()
    try:
        assert ready.wait(30)
        assert held_elsewhere(Path(run_dir) / LOCK_FILE) and status_from_disk(run_dir) == "running"
    finally:
        release.set()
        other.join(30)
    assert not held_elsewhere(Path(run_dir) / LOCK_FILE) and status_from_disk(run_dir) == "interrupted"  # its server is gone
