"""Jobs on a Ray cluster: each job is one Ray actor with its resource request, polled by the job owner.

Which executor a process uses is decided here too (``executor_for``): ``$RAGFT_RAY_ADDRESS`` (or the
CLI's ``--ray ADDRESS``) names a cluster's GCS address (``host:port``, as ``ray start --head`` prints
it); a cluster that cannot be reached at start is said in one line and jobs run locally, so a laptop
never needs Ray (``ray`` is imported only inside the functions that talk to a cluster).

WHY an actor, not a task: the driver must read a running job's progress (the curves, facts
recalled, time left) and ask it to stop after its current step, so the run saves what it
learned. A threaded actor (``JobRunner``) runs the job's ``spec`` in one thread and answers
``poll`` and ``stop`` in others. Stop is Ray's cancel (``ray.cancel`` on the run: a queued
job never starts, a running one sees the flag) plus the job's own stop flag.

Files: when the worker sees the driver's run folder (a shared workspace volume, found by a
token the driver writes there), the job writes its adapter and ``metrics.json`` in place and
the page reads them as it does locally. Otherwise the job writes to a folder on the worker,
each poll sends ``metrics.json`` back and the finished run's files come back with the result.

Faults: a worker that dies mid-run (killed, out of memory, node lost) raises ``WorkerLost``
(the run is marked interrupted, with a retry); a job's own exception comes back as itself,
so the page shows its message, not a Ray traceback.
"""

from __future__ import annotations

import logging
import os
import pickle
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from core.runtime.executor import ClusterUnreachable, JobContext, LocalExecutor, WorkerLost, keeping_where
from core.runtime.workspace import atomic_write_bytes, default_root, read_json, update_json

POLL_S = 0.5  # seconds between progress polls of a running job
SHARED_TOKEN = ".ray-shared"  # the driver writes a token here; a worker that reads it shares the folder
MEMORY_FILE = "ray_job_memory.json"  # measured peak memory per model, for the next job's request
MEMORY_MARGIN = 1.25  # request this much more than the measured peak
CODE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding ``core``: workers import the same code


def _reachable(address: str, timeout: float = 3.0) -> None:
    """Raise ClusterUnreachable unless something listens at ``host:port`` (ray.init would wait far longer)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterUnreachable(f"{address!r} is not host:port")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ClusterUnreachable(exc.strerror or exc.__class__.__name__) from exc


class JobRunner:
    """The actor: runs one job's spec; ``poll`` reads its progress, ``stop`` asks it to stop, ``result`` waits."""

    def __init__(self) -> None:
        self.metrics: dict = {}
        self.started = False
        self.stopping = False
        self.work_dir: Path | None = None
        self.shared = True
        self.finished = threading.Event()
        self.outcome: dict = {}

    def run(self, spec, token: str) -> None:
        import ray

        from core.runtime.memory import PeakRSS

        self.started = True
        run_dir = getattr(spec, "run_dir", None)
        if run_dir is not None:
            mark = Path(run_dir) / SHARED_TOKEN
            self.shared = mark.exists() and mark.read_text() == token
            if not self.shared:
                self.work_dir = Path(tempfile.mkdtemp(prefix="ragft-job-"))
                spec = replace(spec, run_dir=str(self.work_dir))
            else:
                self.work_dir = Path(run_dir)

        def should_stop() -> bool:
            return self.stopping or ray.get_runtime_context().is_canceled()

        began = time.perf_counter()
        with PeakRSS(every_s=0.05) as peak:
            try:
                self.outcome = {"value": spec(JobContext(should_stop, self._report))}
            except BaseException as exc:  # sent back as itself: the page shows the job's own message
                self.outcome = {"error": _portable(exc)}
        self.outcome.update(peak_rss_mb=round(peak.peak_mb, 1), work_seconds=round(time.perf_counter() - began, 2))
        if not self.shared and self.work_dir is not None:
            self.outcome["files"] = {str(p.relative_to(self.work_dir)): p.read_bytes()
                                     for p in self.work_dir.rglob("*") if p.is_file()}
            shutil.rmtree(self.work_dir, ignore_errors=True)
        self.finished.set()

    def _report(self, metrics: dict) -> None:
        self.metrics = dict(metrics)

    def poll(self) -> dict:
        import ray

        info = {"started": self.started, "metrics": dict(self.metrics), "pid": os.getpid(),
                "node": ray.get_runtime_context().get_node_id()}
        if not self.shared and self.work_dir is not None and not self.finished.is_set():
            info["metrics_json"] = read_json(self.work_dir / "metrics.json")
        return info

    def stop(self) -> None:
        self.stopping = True

    def result(self) -> dict:
        self.finished.wait()
        return self.outcome


def memory_key(spec) -> str | None:
    """What a job's measured peak is remembered by: the spec's ``memory_key`` (an evaluation's), else its model."""
    return getattr(spec, "memory_key", None) or getattr(spec, "model", None)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError with the same words."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{exc.__class__.__name__}: {exc}")


@dataclass(frozen=True)
class ClusterView:
    """What the room view shows of the cluster."""

    address: str
    nodes: int  # alive
    cpus_total: float
    cpus_in_use: float
    memory_total_gb: float


@dataclass
class RayExecutor:
    """Hands each job with a ``spec`` to the Ray cluster at ``address`` as one ``JobRunner`` actor."""

    address: str
    name: str = "ray"
    remote: bool = True  # every job is handed over at once; the cluster's scheduler queues them
    notice: str = ""
    share_folder: bool = True  # False: never write in place, always send the run's files back (no shared volume)

    @classmethod
    def connect(cls, address: str) -> "RayExecutor":
        try:
            import ray
        except ImportError as exc:
            raise ClusterUnreachable("Ray is not installed: pip install -e '.[ray]'") from exc
        if not ray.is_initialized():
            _reachable(address)
            try:
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING,
                         configure_logging=True)
            except Exception as exc:  # ConnectionError, a version mismatch, a timeout
                raise ClusterUnreachable(" ".join(str(exc).split())[:200] or exc.__class__.__name__) from exc
        return cls(address)

    def run(self, job, ctx: JobContext):
        import ray

        spec = job.spec
        token = secrets.token_hex(8)
        run_dir = getattr(spec, "run_dir", None)
        if run_dir is not None and self.share_folder:
            atomic_write_bytes(Path(run_dir) / SHARED_TOKEN, token.encode())
        actor = ray.remote(max_concurrency=4)(JobRunner).options(
            num_cpus=getattr(spec, "cpus", 1), memory=int(self.memory_request(spec) * 1e6),
            runtime_env={"env_vars": {"PYTHONPATH": str(CODE_ROOT)}}).remote()
        run_ref = actor.run.remote(spec, token)
        try:
            if not self._follow(actor, run_ref, ctx, run_dir):
                return {"status": "stopped"}  # stopped before a worker took it
            outcome = ray.get(actor.result.remote())
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
            raise WorkerLost("The Ray worker running this job stopped before it finished "
                             f"({exc.__class__.__name__}); retry it to run it again.") from None
        finally:
            ray.kill(actor, no_restart=True)
        self._keep(spec, run_dir, outcome)
        if "error" in outcome:
            raise outcome["error"]
        value = outcome["value"]
        measured = {"peak_rss_mb": outcome["peak_rss_mb"], "work_seconds": outcome["work_seconds"]}
        return {**value, **measured} if isinstance(value, dict) else value

    def _follow(self, actor, run_ref, ctx: JobContext, run_dir) -> bool:
        """Relay progress until the run ends; False when it was stopped before it started."""
        import ray

        poll_ref, started, cancelled = None, False, False
        while True:
            done, _ = ray.wait([run_ref], timeout=POLL_S)
            poll_ref = poll_ref or actor.poll.remote()
            ready, _ = ray.wait([poll_ref], timeout=5.0 if done else 0.05)
            if ready:
                info = ray.get(poll_ref)
                poll_ref = None
                if info["started"] and not started:
                    started = True
                    ctx.started({"runner": "ray", "worker_pid": info["pid"], "node": info["node"]})
                if info["metrics"]:
                    ctx.report(info["metrics"])
                if info.get("metrics_json") and run_dir is not None:
                    fresh = info["metrics_json"]
                    update_json(Path(run_dir) / "metrics.json", lambda old: keeping_where(old, fresh), {})
            if ctx.should_stop() and not cancelled:
                cancelled = True
                if not started:
                    ray.cancel(run_ref)
                    return False
                actor.stop.remote()
                ray.cancel(run_ref)  # Ray's cancel: the running job sees is_canceled() and stops after its step
            if done:
                return True

    def _keep(self, spec, run_dir, outcome: dict) -> None:
        """Write back a non-shared run's files, and remember the job's peak memory for the next request."""
        for name, data in (outcome.get("files") or {}).items():
            atomic_write_bytes(Path(run_dir) / name, data)
        if run_dir is not None:
            (Path(run_dir) / SHARED_TOKEN).unlink(missing_ok=True)
        key = memory_key(spec)
        if key and outcome.get("peak_rss_mb"):
            update_json(default_root() / MEMORY_FILE, lambda d: {**(d or {}), key: outcome["peak_rss_mb"]}, {})

    def memory_request(self, spec) -> float:
        """MB to reserve: the model's measured peak from earlier jobs (× MEMORY_MARGIN), else the spec's estimate."""
        measured = (read_json(default_root() / MEMORY_FILE, {}) or {}).get(memory_key(spec) or "")
        if isinstance(measured, (int, float)) and measured > 0:
            return round(measured * MEMORY_MARGIN, 1)
        return float(getattr(spec, "memory_mb", 0) or 1000)

    def cluster(self) -> ClusterView | None:
        import ray

        try:
            total, free = ray.cluster_resources(), ray.available_resources()
            nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
        except Exception:
            return None
        return ClusterView(self.address, nodes, total.get("CPU", 0.0), round(total.get("CPU", 0.0) -
                           free.get("CPU", 0.0), 2), round(total.get("memory", 0.0) / 1e9, 2))


# --- where jobs run ---------------------------------------------------------------------------------------
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
        return RayExecutor.connect(address)
    except ClusterUnreachable as exc:
        line = f"The Ray cluster at {address} cannot be reached ({exc}); jobs run locally in this process."
        say(line)
        return LocalExecutor(notice=line)


def default_executor():
    """The executor ``$RAGFT_RAY_ADDRESS`` asks for (local when unset or unreachable)."""
    return executor_for(os.environ.get(ADDRESS_ENV))
