"""The Lab's one owner of background work: a process-wide queue with a lane per kind of work.

Within a lane jobs run one after another in a worker thread (the Lab runs on a couple of cores); the
others wait and see their queue position. Lanes: ``"train"`` (fine-tuning) and ``"eval"`` (batch
evaluations), so a short evaluation does not wait behind a long training run. A job with a run folder
writes ``metrics.json`` there (a page refresh or an app restart still shows it) and, with a ``spec``,
``job.json`` (``core.runtime.specs``): a retry after a restart rebuilds the job from it. Jobs carry an
``owner`` (the session's workspace folder) so users list only their own. A finished job keeps only
its status and result: its ``work`` (models, tokenizer, documents) is dropped, and the memory with it.

Where a job runs is the executor's (``core.runtime.executor``; ``ray_executor.executor_for`` picks it):
this process, or the Ray cluster ``$RAGFT_RAY_ADDRESS`` names. A job that can run elsewhere carries a
``spec``: a picklable form of its work (names and plain data, no models). A cluster gets every such job
at once and its scheduler queues them. While a job is live its process holds an ``fcntl`` lock on
``run_dir/.job.lock``, so another web server over the same workspace sees it as live, not interrupted.
Every job's bar follows one rule, ``progress_of``.

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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from core.errors import Cancelled
from core.runtime.executor import JobContext, WorkerLost
from core.runtime.memory import release_memory
from core.runtime.ray_executor import default_executor
from core.runtime.specs import SPEC_FILE, load_spec, save_spec
from core.runtime.timings import progress_words, seconds_left, server_timings
from core.runtime.workspace import atomic_write_json, held_elsewhere, hold_lock, read_json, release_lock, update_json

LIVE = ("queued", "running")
FINAL = ("done", "failed", "stopped")
RETRYABLE = ("interrupted", "failed")
LANES = ("train", "eval")
LOCK_FILE = ".job.lock"  # held while a process runs the job (core.runtime.workspace.hold_lock)


@dataclass
class Job:
    owner: str  # who may see it: the session's workspace folder
    run_dir: Path | None  # where the job writes metrics.json (and its results); None: nothing on disk
    work: Callable[[JobContext], object] | None  # runs in the worker thread; may return {"status": "stopped"}
    label: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    lane: str = "train"  # one of LANES: jobs of a lane run one at a time, lanes side by side
    spec: Callable[[JobContext], object] | None = None  # picklable work for another process; None: here only
    measure: tuple[str, int] | None = None  # (timings op, items): a finished run is timed for the next estimate

    def __post_init__(self) -> None:
        if self.lane not in LANES:
            raise ValueError(f"lane must be one of {', '.join(LANES)} (got {self.lane!r})")


@dataclass(frozen=True)
class JobStatus:
    id: str
    state: str  # queued | running | done | failed | stopped | interrupted (was live when the app stopped)
    position: int | None  # 1 = next to run; None unless queued
    metrics: dict  # the latest progress the job reported
    message: str  # why it failed, in words
    run_dir: Path | None
    label: str = ""
    owner: str = ""
    result: object = None  # what ``work`` returned (or a stopped job's partial result), once finished
    lane: str = "train"
    started_at: float | None = None  # when it began running (time.time())
    runner: str = ""  # "local" | "ray", once it runs
    worker_pid: int | None = None  # the process that runs it
    measure: tuple[str, int] | None = None  # the job's (timings op, items), for its estimate before any progress


@dataclass(frozen=True)
class JobProgress:
    """How far a job is and the time left: the one rule behind every job's bar, training and evaluation alike.

    A job reports ``{"done", "total"}`` (steps, answers…); the time left is the pace so far
    (``seconds_left``), or, before the first item, the time measured for such a job here before.

    >>> p = progress_of({"done": 3, "total": 12}, started_at=100.0, now=106.0)
    >>> p.fraction, p.left, p.words("Training")
    (0.25, 18.0, 'Training… 3/12 · 6 s so far · about 20 s left')
    >>> progress_of({}, None, expected=30.0).words("Evaluating")
    'Evaluating… · about 30 s left (measured here before)'
    """

    done: int
    total: int  # 0: not known yet
    elapsed: float
    left: float | None  # seconds, at the pace so far (None before the first item)
    expected: float | None = None  # the measured estimate of the whole job, when there is one

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0

    def words(self, what: str) -> str:
        return progress_words(what, self.done, self.total, self.elapsed, self.expected)


def progress_of(metrics: dict, started_at: float | None, now: float | None = None,
                expected: float | None = None) -> JobProgress:
    """The progress of a job that reported ``metrics`` (``done``/``total``) and began at ``started_at``."""
    now = time.time() if now is None else now
    done, total = int(metrics.get("done") or 0), int(metrics.get("total") or 0)
    elapsed = max(now - (started_at or now), 0.0)
    return JobProgress(done, total, elapsed, seconds_left(elapsed, done, total), expected)


def job_progress(status: JobStatus, now: float | None = None) -> JobProgress:
    """``progress_of`` a job's status, with its measured estimate (``Job.measure``) before any progress."""
    expected = server_timings().estimate(*status.measure) if status.measure else None
    return progress_of(status.metrics, status.started_at, now, expected)


@dataclass
class _Record:
    """Everything the queue knows about one job, in one place (guarded by the queue's lock)."""

    job: Job
    state: str = "queued"
    metrics: dict = field(default_factory=dict)
    message: str = ""
    result: object = None
    started: float | None = None
    where: dict = field(default_factory=dict)  # "runner", "worker_pid" once it runs
    stop: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)  # set when it reaches a final state
    hold: object = None  # the open, locked run_dir/.job.lock while this process owns the run

    def status(self, position: int | None) -> JobStatus:
        job = self.job
        return JobStatus(job.id, self.state, position, dict(self.metrics), self.message,
                         Path(job.run_dir) if job.run_dir is not None else None, job.label, job.owner, self.result,
                         job.lane, self.started, self.where.get("runner", ""), self.where.get("worker_pid"),
                         job.measure)

    def finish(self, state: str, message: str = "", result: object = None) -> None:
        """The final state: only the status stays (the job's work, and the models it held, can be freed)."""
        self.state, self.message, self.result = state, message, result
        self.job = replace(self.job, work=None)
        release_lock(self.hold)
        self.hold = None
        self.ended.set()


class JobQueue:
    """Jobs by id, one ``_Record`` each; a worker thread per lane runs the lane's queue in order."""

    def __init__(self, executor=None) -> None:
        self._executor = executor  # None: chosen from the environment at the first job
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}
        self._waiting: dict[str, deque[str]] = {lane: deque() for lane in LANES}  # job ids, next first
        self._workers: dict[str, threading.Thread] = {}

    @property
    def executor(self):
        """Where jobs run: ``LocalExecutor`` or ``RayExecutor`` (``default_executor`` below)."""
        if self._executor is None:
            self._executor = default_executor()
        return self._executor

    def submit(self, job: Job) -> str:
        record = _Record(job)
        if job.run_dir is not None:
            Path(job.run_dir).mkdir(parents=True, exist_ok=True)
            if read_json(Path(job.run_dir) / "metrics.json") is None:
                atomic_write_json(Path(job.run_dir) / "metrics.json",
                                  {"status": "queued", "label": job.label, "started_at": time.time()})
            record.hold = hold_lock(Path(job.run_dir) / LOCK_FILE)
            if job.spec is not None:  # a retry after an app restart rebuilds the job from this file
                save_spec(job.run_dir, {"owner": job.owner, "label": job.label, "lane": job.lane,
                                        "measure": job.measure, "spec": job.spec})
        self.executor  # choose it now: an unreachable cluster is said once, at the first job
        with self._lock:
            self._records[job.id] = record
            self._waiting[job.lane].append(job.id)
            worker = self._workers.get(job.lane)
            if worker is None or not worker.is_alive():
                worker = threading.Thread(target=self._run_all, args=(job.lane,), name=f"lab-jobs-{job.lane}",
                                          daemon=True)
                self._workers[job.lane] = worker
                worker.start()
        return job.id

    def status(self, job_id: str) -> JobStatus | None:
        with self._lock:
            record = self._records.get(job_id)
            if record is None:
                return None
            waiting = self._waiting[record.job.lane]
            return record.status(waiting.index(job_id) + 1 if job_id in waiting else None)

    def stop(self, job_id: str) -> bool:
        """Stop a running job after its current step, or take a queued one off the queue."""
        with self._lock:
            record = self._records.get(job_id)
            if record is None or record.state not in LIVE:
                return False
            record.stop.set()
            waiting = self._waiting[record.job.lane]
            if record.state == "queued" and job_id in waiting:
                waiting.remove(job_id)
                run_dir = record.job.run_dir
                record.finish("stopped")
                if run_dir is not None:
                    _merge_metrics(run_dir, {"status": "stopped", "message": "Stopped before it started."})
        return True

    def retry(self, job_id: str) -> str | None:
        """Run an interrupted or failed job again, from scratch, in the same run folder; the new job's id."""
        with self._lock:
            record = self._records.get(job_id)
            if record is None or record.state not in RETRYABLE or (record.job.work is None and record.job.spec is None):
                return None
            job = record.job
        return self._resubmit(job, job_id)

    def retry_run(self, run_dir: str | Path) -> str | None:
        """Run an interrupted or failed run again from the spec saved in its folder (``job.json``): works in a
        fresh process, after an app restart. None when the run is live, finished well, or has no spec."""
        saved = load_spec(run_dir)
        if saved is None or status_from_disk(run_dir, queue=self) not in RETRYABLE:
            return None
        job = Job(owner=str(saved.get("owner", "")), run_dir=Path(run_dir), work=None, label=saved.get("label", ""),
                  lane=saved.get("lane", "train"), spec=saved["spec"],
                  measure=tuple(saved["measure"]) if saved.get("measure") else None)
        return self._resubmit(job, "saved spec")

    def _resubmit(self, job: Job, retry_of: str) -> str:
        if job.run_dir is not None:
            atomic_write_json(Path(job.run_dir) / "metrics.json",
                              {"status": "queued", "label": job.label, "started_at": time.time(), "retry_of": retry_of})
        return self.submit(replace(job, id=uuid.uuid4().hex[:12]))

    def jobs(self, owner: str | None = None) -> list[JobStatus]:
        with self._lock:
            ids = [i for i, r in self._records.items() if owner is None or r.job.owner == owner]
        return [s for s in (self.status(i) for i in ids) if s is not None]

    def live(self, owner: str | None = None) -> list[JobStatus]:
        """The queued or running jobs (of ``owner``): a page polls only while this is not empty."""
        return [s for s in self.jobs(owner) if s.state in LIVE]

    def find(self, run_dir: str | Path) -> JobStatus | None:
        """The live-or-finished job writing to ``run_dir`` in this process, if any."""
        target = Path(run_dir).resolve()
        matches = [s for s in self.jobs() if s.run_dir is not None and Path(s.run_dir).resolve() == target]
        return matches[-1] if matches else None

    def wait(self, job_id: str, timeout: float = 600.0) -> JobStatus | None:
        """The job's status once it has ended (or after ``timeout`` seconds): woken by its end, no polling."""
        with self._lock:
            record = self._records.get(job_id)
        if record is not None:
            record.ended.wait(timeout)
        return self.status(job_id)

    def _run_all(self, lane: str) -> None:
        while True:
            with self._lock:
                if not self._waiting[lane]:
                    self._workers.pop(lane, None)
                    return
                record = self._records[self._waiting[lane].popleft()]
            executor = self.executor
            if executor.remote and record.job.spec is not None:  # the cluster schedules it: hand it over
                threading.Thread(target=self._run_one, args=(record, executor),
                                 name=f"lab-jobs-{lane}-{record.job.id}", daemon=True).start()
                continue
            self._run_one(record, executor)
            record = None  # with the job's work dropped, the run's model copy, optimiser and batches are garbage
            release_memory()

    def _run_one(self, record: _Record, executor) -> None:
        job = record.job

        def report(metrics: dict) -> None:
            with self._lock:
                record.metrics = dict(metrics)

        def started(where: dict) -> None:
            with self._lock:
                record.state, record.started, record.where = "running", time.time(), dict(where)
            if job.run_dir is not None:  # another web server over this workspace sees it running, and where
                _merge_metrics(job.run_dir, {**where, "status": "running"})

        result, message = None, ""
        try:
            result = executor.run(job, JobContext(record.stop.is_set, report, started))
            said = result.get("status") if isinstance(result, dict) else None
            state = said if said in FINAL else ("stopped" if record.stop.is_set() else "done")
        except Cancelled as exc:  # stopped on request: keep what was finished (``exc.partial``)
            state, result = "stopped", getattr(exc, "partial", None)
        except WorkerLost as exc:  # the worker process died: the run can be retried
            state, message = "interrupted", str(exc)
            if job.run_dir is not None:
                _merge_metrics(job.run_dir, {"status": "interrupted", "message": message})
        except Exception as exc:  # a failed job must never kill the worker
            state, message = "failed", failure_message(exc)
            if job.run_dir is not None:
                _merge_metrics(job.run_dir, {"status": "failed", "message": message,
                                             "traceback": traceback.format_exc(limit=5)})
        where = dict(record.where)
        if isinstance(result, dict) and "peak_rss_mb" in result:  # measured on a Ray worker
            where["peak_rss_mb"] = result["peak_rss_mb"]
        if job.run_dir is not None:  # the final state, "runner", "worker_pid" (and a Ray job's peak memory)
            _merge_metrics(job.run_dir, {**where, "status": state})
        if state == "done" and job.measure and record.started:
            server_timings().record(job.measure[0], time.time() - record.started, job.measure[1])
        with self._lock:
            record.finish(state, message, result)


def failure_message(exc: Exception) -> str:
    """A failed job's message: a Lab error's own words (written for users), else the exception's type and words."""
    from core.errors import LabError

    return str(exc) if isinstance(exc, LabError) else f"{exc.__class__.__name__}: {exc}"


def _merge_metrics(run_dir: Path, update: dict) -> None:
    update_json(Path(run_dir) / "metrics.json", lambda metrics: {**(metrics or {}), **update}, {})


def status_from_disk(run_dir: str | Path, metrics: dict | None = None, queue: JobQueue | None = None) -> str:
    """A run's state from its metrics.json (or ``metrics``, already read): a "running" run with
    no live job (in ``queue``, default this process's) was interrupted."""
    metrics = metrics if metrics is not None else read_json(Path(run_dir) / "metrics.json") or {}
    state = metrics.get("status", "unknown")
    live = (queue or QUEUE).find(run_dir)
    if live is not None:
        return live.state
    if state in LIVE and held_elsewhere(Path(run_dir) / LOCK_FILE):
        return state  # another web server over this workspace runs it
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


def retry(job_id: str) -> str | None:
    return QUEUE.retry(job_id)


def retry_run(run_dir: str | Path) -> str | None:
    return QUEUE.retry_run(run_dir)


def can_retry(run_dir: str | Path) -> bool:
    """True when the run folder holds a saved spec, so ``retry_run`` can rebuild it (even after a restart)."""
    return (Path(run_dir) / SPEC_FILE).is_file()


def task_job(owner: str, label: str, fn: Callable[[Callable[[int, int], None], Callable[[], bool]], object],
             lane: str = "eval", measure: tuple[str, int] | None = None, spec=None) -> Job:
    """A job for in-process work written as ``fn(progress, should_stop)`` (``progress(done, total)``): its
    progress becomes the job's metrics ``{"done", "total"}``; a ``Cancelled`` it raises stops the job with
    ``exc.partial`` as the result; ``measure`` and ``spec`` (the same work as plain data, for a cluster):
    see ``Job``."""
    def work(ctx: JobContext):
        return fn(lambda done, total: ctx.report({"done": done, "total": total}), ctx.should_stop)

    return Job(owner=str(owner), run_dir=None, work=work, label=label, lane=lane, measure=measure, spec=spec)
