"""The Lab's one owner of background work: a process-wide queue with a lane per kind of work.

The Lab runs on a couple of CPU cores, so within a lane jobs run one after another
in a single worker thread; the others wait and can see their queue position. Two
lanes: ``"train"`` (fine-tuning runs) and ``"eval"`` (batch evaluations), so a
short evaluation does not wait behind a long training run. A training job writes
its progress to ``run_dir/metrics.json``, so a page refresh (a new Streamlit
session) or an app restart can still show it from disk. Jobs carry an ``owner``
(the session's workspace folder) so users only list their own. A finished job
keeps only its status and result: its ``work`` (which holds models, tokenizer and
documents) is dropped, so the memory goes with it.

Where a job runs is the executor's business (``core.runtime.executor``): in this process
(the default), or on a Ray cluster when ``$RAGFT_RAY_ADDRESS`` names one. A job that can
run elsewhere carries a ``spec``: a picklable form of its work (names and plain data, no
models). On a cluster every such job is handed over at once and the cluster's scheduler
queues it; a job stays "queued" until a worker starts it. While a job is live its process
holds an ``fcntl`` lock on ``run_dir/.job.lock``, so another web server over the same
workspace sees it as live, not as interrupted.

>>> job_id = submit(Job(owner="ws/sessions/abc", run_dir=Path("ws/adapters/run1"), work=my_work))  # doctest: +SKIP
>>> status(job_id)                                                                                 # doctest: +SKIP
JobStatus(id='…', state='running', position=None, metrics={'step': 12, 'loss': 1.9, …}, message='', …)
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from core.errors import Cancelled
from core.runtime.executor import ClusterUnreachable, JobContext, LocalExecutor, WorkerLost
from core.runtime.memory import release_memory
from core.runtime.workspace import atomic_write_json, read_json, update_json

LIVE = ("queued", "running")
FINAL = ("done", "failed", "stopped")
RETRYABLE = ("interrupted", "failed")
LANES = ("train", "eval")
LOCK_FILE = ".job.lock"


@dataclass
class Job:
    owner: str  # who may see it: the session's workspace folder
    run_dir: Path | None  # where the job writes metrics.json (and its results); None: nothing on disk
    work: Callable[[JobContext], object] | None  # runs in the worker thread; may return {"status": "stopped"}
    label: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    lane: str = "train"  # one of LANES: jobs of a lane run one at a time, lanes side by side
    spec: Callable[[JobContext], object] | None = None  # picklable work for another process; None: here only

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


class JobQueue:
    def __init__(self, executor=None) -> None:
        self._executor = executor  # None: chosen from the environment at the first job
        self._lock = threading.Lock()
        self._waiting: dict[str, deque[Job]] = {lane: deque() for lane in LANES}
        self._jobs: dict[str, Job] = {}
        self._state: dict[str, str] = {}
        self._metrics: dict[str, dict] = {}
        self._message: dict[str, str] = {}
        self._result: dict[str, object] = {}
        self._started: dict[str, float] = {}
        self._stop: dict[str, threading.Event] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._where: dict[str, dict] = {}
        self._holds: dict[str, object] = {}  # job id -> the open, locked run_dir/.job.lock

    @property
    def executor(self):
        """Where jobs run: ``LocalExecutor`` or ``RayExecutor`` (``default_executor`` below)."""
        if self._executor is None:
            self._executor = default_executor()
        return self._executor

    def submit(self, job: Job) -> str:
        if job.run_dir is not None:
            Path(job.run_dir).mkdir(parents=True, exist_ok=True)
            if read_json(Path(job.run_dir) / "metrics.json") is None:
                atomic_write_json(Path(job.run_dir) / "metrics.json",
                                  {"status": "queued", "label": job.label, "started_at": time.time()})
            self._holds[job.id] = _hold(Path(job.run_dir))
        self.executor  # choose it now: an unreachable cluster is said once, at the first job
        with self._lock:
            self._jobs[job.id], self._state[job.id] = job, "queued"
            self._stop[job.id] = threading.Event()
            self._waiting[job.lane].append(job)
            worker = self._workers.get(job.lane)
            if worker is None or not worker.is_alive():
                worker = threading.Thread(target=self._run_all, args=(job.lane,), name=f"lab-jobs-{job.lane}",
                                          daemon=True)
                self._workers[job.lane] = worker
                worker.start()
        return job.id

    def status(self, job_id: str) -> JobStatus | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            position = next((i for i, j in enumerate(self._waiting[job.lane], 1) if j.id == job_id), None)
            return JobStatus(job_id, self._state[job_id], position, dict(self._metrics.get(job_id, {})),
                             self._message.get(job_id, ""), Path(job.run_dir) if job.run_dir is not None else None,
                             job.label, job.owner, self._result.get(job_id), job.lane, self._started.get(job_id),
                             self._where.get(job_id, {}).get("runner", ""),
                             self._where.get(job_id, {}).get("worker_pid"))

    def stop(self, job_id: str) -> bool:
        """Stop a running job after its current step, or take a queued one off the queue."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or self._state[job_id] not in LIVE:
                return False
            self._stop[job_id].set()
            if self._state[job_id] == "queued" and job in self._waiting[job.lane]:
                self._waiting[job.lane].remove(job)
                self._state[job_id] = "stopped"
                self._jobs[job_id] = replace(job, work=None)
                _release(self._holds.pop(job_id, None))
                if job.run_dir is not None:
                    _merge_metrics(job.run_dir, {"status": "stopped", "message": "Stopped before it started."})
        return True

    def retry(self, job_id: str) -> str | None:
        """Run an interrupted or failed job again, from scratch, in the same run folder; the new job's id."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or self._state[job_id] not in RETRYABLE or (job.work is None and job.spec is None):
                return None
        if job.run_dir is not None:
            atomic_write_json(Path(job.run_dir) / "metrics.json",
                              {"status": "queued", "label": job.label, "started_at": time.time(), "retry_of": job_id})
        return self.submit(replace(job, id=uuid.uuid4().hex[:12]))

    def jobs(self, owner: str | None = None) -> list[JobStatus]:
        with self._lock:
            ids = [i for i, j in self._jobs.items() if owner is None or j.owner == owner]
        return [s for s in (self.status(i) for i in ids) if s is not None]

    def live(self, owner: str | None = None) -> list[JobStatus]:
        """The queued or running jobs (of ``owner``): a page polls only while this is not empty."""
        return [s for s in self.jobs(owner) if s.state in LIVE]

    def find(self, run_dir: str | Path) -> JobStatus | None:
        """The live-or-finished job writing to ``run_dir`` in this process, if any."""
        target = Path(run_dir).resolve()
        matches = [s for s in self.jobs() if s.run_dir is not None and Path(s.run_dir).resolve() == target]
        return matches[-1] if matches else None

    def wait(self, job_id: str, timeout: float = 600.0, poll: float = 0.1) -> JobStatus | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.status(job_id)
            if st is None or st.state not in LIVE:
                return st
            time.sleep(poll)
        return self.status(job_id)

    def _run_all(self, lane: str) -> None:
        while True:
            with self._lock:
                if not self._waiting[lane]:
                    self._workers.pop(lane, None)
                    return
                job = self._waiting[lane].popleft()
            executor = self.executor
            if executor.remote and job.spec is not None:  # the cluster schedules it: hand it over, take the next
                threading.Thread(target=self._run_one, args=(job, executor), name=f"lab-jobs-{lane}-{job.id}",
                                 daemon=True).start()
                continue
            self._run_one(job, executor)
            job = None  # the last reference to its work: the run's model copy, optimiser and batches are garbage
            release_memory()

    def _run_one(self, job: Job, executor) -> None:
        stop = self._stop[job.id]

        def report(metrics: dict) -> None:
            with self._lock:
                self._metrics[job.id] = dict(metrics)

        def started(where: dict) -> None:
            with self._lock:
                self._state[job.id], self._started[job.id] = "running", time.time()
                self._where[job.id] = dict(where)

        result, message = None, ""
        try:
            result = executor.run(job, JobContext(stop.is_set, report, started))
            said = result.get("status") if isinstance(result, dict) else None
            state = said if said in FINAL else ("stopped" if stop.is_set() else "done")
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
        where = self._where.get(job.id, {})
        if isinstance(result, dict) and "peak_rss_mb" in result:  # measured on a Ray worker
            where = {**where, "peak_rss_mb": result["peak_rss_mb"]}
        if job.run_dir is not None and where:
            _merge_metrics(job.run_dir, where)  # "runner", "worker_pid" (and a Ray job's measured peak memory)
        with self._lock:
            self._state[job.id], self._message[job.id], self._result[job.id] = state, message, result
            self._jobs[job.id] = replace(job, work=None)  # only the status stays: the models can be freed
            self._stop.pop(job.id, None)
            _release(self._holds.pop(job.id, None))


def failure_message(exc: Exception) -> str:
    """A failed job's message: a Lab error's own words (written for users), else the exception's type and words."""
    from core.errors import LabError

    return str(exc) if isinstance(exc, LabError) else f"{exc.__class__.__name__}: {exc}"


def _merge_metrics(run_dir: Path, update: dict) -> None:
    update_json(Path(run_dir) / "metrics.json", lambda metrics: {**(metrics or {}), **update}, {})


def _hold(run_dir: Path):
    """Lock ``run_dir/.job.lock`` for as long as this process runs the job (the handle keeps the lock)."""
    handle = open(run_dir / LOCK_FILE, "a+b")
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # another server already holds it (a retry racing a live run): keep going, unlocked
        pass
    return handle


def _release(handle) -> None:
    if handle is not None:
        handle.close()  # closing drops the lock


def held_elsewhere(run_dir: str | Path) -> bool:
    """True when another process (another web server over this workspace) holds the run's job lock."""
    path = Path(run_dir) / LOCK_FILE
    if not path.exists():
        return False
    with open(path, "a+b") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(handle, fcntl.LOCK_UN)
        return False


def status_from_disk(run_dir: str | Path, metrics: dict | None = None) -> str:
    """A run's state from its metrics.json (or ``metrics``, already read): a "running" run with
    no live job was interrupted."""
    metrics = metrics if metrics is not None else read_json(Path(run_dir) / "metrics.json") or {}
    state = metrics.get("status", "unknown")
    live = QUEUE.find(run_dir)
    if live is not None:
        return live.state
    if state in LIVE and held_elsewhere(run_dir):
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


def task_job(owner: str, label: str, fn: Callable[[Callable[[int, int], None], Callable[[], bool]], object],
             lane: str = "eval") -> Job:
    """A job for work written as ``fn(progress, should_stop)`` (``progress(done, total)``, e.g.
    ``core.evaluation.evaluate``): its progress becomes the job's metrics ``{"done", "total"}``; a
    ``Cancelled`` it raises stops the job with ``exc.partial`` as the result."""
    def work(ctx: JobContext):
        return fn(lambda done, total: ctx.report({"done": done, "total": total}), ctx.should_stop)

    return Job(owner=str(owner), run_dir=None, work=work, label=label, lane=lane)


# --- where jobs run ---------------------------------------------------------------------------------------
# ``$RAGFT_RAY_ADDRESS`` (or the CLI's ``--ray ADDRESS``) names a Ray cluster's GCS address (``host:port``, as
# ``ray start --head`` prints it). A cluster that cannot be reached at start is said in one line and jobs run
# locally: a laptop never needs Ray.
ADDRESS_ENV = "RAGFT_RAY_ADDRESS"


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def executor_for(address: str | None, say: Callable[[str], None] = _say):
    """A ``RayExecutor`` connected to ``address``, or a ``LocalExecutor`` (with one line said when it fell back).

    >>> executor_for(None).name
    'local'
    >>> executor_for("127.0.0.1:1", say=lambda line: None).name       # nothing listens there
    'local'
    """
    address = (address or "").strip()
    if not address:
        return LocalExecutor()
    try:
        from core.runtime.ray_executor import RayExecutor  # only when a cluster is asked for: Ray is optional

        return RayExecutor.connect(address)
    except ClusterUnreachable as exc:
        line = f"The Ray cluster at {address} cannot be reached ({exc}); jobs run locally in this process."
        say(line)
        return LocalExecutor(notice=line)


def default_executor():
    """The executor ``$RAGFT_RAY_ADDRESS`` asks for (local when unset or unreachable)."""
    return executor_for(os.environ.get(ADDRESS_ENV))
