"""A process-wide background queue for long work (training): one job runs at a time.

The Lab runs on a couple of CPU cores, so jobs run one after another in a
single worker thread; the others wait and can see their queue position. Each
job writes its progress to ``run_dir/metrics.json``, so a page refresh (a new
Streamlit session) or an app restart can still show it from disk. Jobs carry an
``owner`` (the session's workspace folder) so users only list their own.

>>> job_id = submit(Job(owner="ws/sessions/abc", run_dir=Path("ws/adapters/run1"), work=my_work))  # doctest: +SKIP
>>> status(job_id)                                                                                 # doctest: +SKIP
JobStatus(id='…', state='running', position=None, metrics={'step': 12, 'loss': 1.9, …}, message='', …)
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core.runtime.workspace import atomic_write_json, read_json

LIVE = ("queued", "running")
FINAL = ("done", "failed", "stopped")


@dataclass
class JobContext:
    """What a job's ``work`` function gets: a stop flag to check each step and a way to report progress."""

    should_stop: Callable[[], bool]
    report: Callable[[dict], None]


@dataclass
class Job:
    owner: str  # who may see it: the session's workspace folder
    run_dir: Path  # where the job writes metrics.json (and its results)
    work: Callable[[JobContext], dict | None]  # runs in the worker thread; may return {"status": "stopped"}
    label: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


@dataclass(frozen=True)
class JobStatus:
    id: str
    state: str  # queued | running | done | failed | stopped | interrupted (was live when the app stopped)
    position: int | None  # 1 = next to run; None unless queued
    metrics: dict  # the latest progress the job reported
    message: str  # why it failed, in words
    run_dir: Path
    label: str = ""
    owner: str = ""


class JobQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: deque[Job] = deque()
        self._jobs: dict[str, Job] = {}
        self._state: dict[str, str] = {}
        self._metrics: dict[str, dict] = {}
        self._message: dict[str, str] = {}
        self._stop: dict[str, threading.Event] = {}
        self._worker: threading.Thread | None = None

    def submit(self, job: Job) -> str:
        Path(job.run_dir).mkdir(parents=True, exist_ok=True)
        if read_json(Path(job.run_dir) / "metrics.json") is None:
            atomic_write_json(Path(job.run_dir) / "metrics.json",
                              {"status": "queued", "label": job.label, "started_at": time.time()})
        with self._lock:
            self._jobs[job.id], self._state[job.id] = job, "queued"
            self._stop[job.id] = threading.Event()
            self._waiting.append(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run_all, name="lab-jobs", daemon=True)
                self._worker.start()
        return job.id

    def status(self, job_id: str) -> JobStatus | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            position = next((i for i, j in enumerate(self._waiting, 1) if j.id == job_id), None)
            return JobStatus(job_id, self._state[job_id], position, dict(self._metrics.get(job_id, {})),
                             self._message.get(job_id, ""), Path(job.run_dir), job.label, job.owner)

    def stop(self, job_id: str) -> bool:
        """Stop a running job after its current step, or take a queued one off the queue."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or self._state[job_id] not in LIVE:
                return False
            self._stop[job_id].set()
            if self._state[job_id] == "queued":
                self._waiting.remove(job)
                self._state[job_id] = "stopped"
                _merge_metrics(job.run_dir, {"status": "stopped", "message": "Stopped before it started."})
        return True

    def jobs(self, owner: str | None = None) -> list[JobStatus]:
        with self._lock:
            ids = [i for i, j in self._jobs.items() if owner is None or j.owner == owner]
        return [s for s in (self.status(i) for i in ids) if s is not None]

    def find(self, run_dir: str | Path) -> JobStatus | None:
        """The live-or-finished job writing to ``run_dir`` in this process, if any."""
        target = Path(run_dir).resolve()
        matches = [s for s in self.jobs() if Path(s.run_dir).resolve() == target]
        return matches[-1] if matches else None

    def wait(self, job_id: str, timeout: float = 600.0, poll: float = 0.1) -> JobStatus | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.status(job_id)
            if st is None or st.state not in LIVE:
                return st
            time.sleep(poll)
        return self.status(job_id)

    def _run_all(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._worker = None
                    return
                job = self._waiting.popleft()
                self._state[job.id] = "running"
            self._run_one(job)

    def _run_one(self, job: Job) -> None:
        stop = self._stop[job.id]

        def report(metrics: dict) -> None:
            with self._lock:
                self._metrics[job.id] = dict(metrics)

        try:
            result = job.work(JobContext(stop.is_set, report)) or {}
            state = result.get("status") if result.get("status") in FINAL else ("stopped" if stop.is_set() else "done")
            message = ""
        except Exception as exc:  # a failed job must never kill the worker
            state, message = "failed", f"{exc.__class__.__name__}: {exc}"
            _merge_metrics(job.run_dir, {"status": "failed", "message": message,
                                         "traceback": traceback.format_exc(limit=5)})
        with self._lock:
            self._state[job.id], self._message[job.id] = state, message


def _merge_metrics(run_dir: Path, update: dict) -> None:
    path = Path(run_dir) / "metrics.json"
    metrics = read_json(path, {}) or {}
    metrics.update(update)
    atomic_write_json(path, metrics)


def status_from_disk(run_dir: str | Path, metrics: dict | None = None) -> str:
    """A run's state from its metrics.json (or ``metrics``, already read): a "running" run with
    no live job was interrupted."""
    metrics = metrics if metrics is not None else read_json(Path(run_dir) / "metrics.json") or {}
    state = metrics.get("status", "unknown")
    live = QUEUE.find(run_dir)
    if live is not None:
        return live.state
    return "interrupted" if state in LIVE else state


QUEUE = JobQueue()  # one per process: every Streamlit session shares this worker


def submit(job: Job) -> str:
    return QUEUE.submit(job)


def status(job_id: str) -> JobStatus | None:
    return QUEUE.status(job_id)


def stop(job_id: str) -> bool:
    return QUEUE.stop(job_id)


def jobs(owner: str | None = None) -> list[JobStatus]:
    return QUEUE.jobs(owner)
