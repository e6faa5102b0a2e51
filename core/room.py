"""The teacher's room view: the shared training queue and the server's load, behind a passcode.

The passcode comes from ``$RAGFT_TEACHER_PASSCODE``; without it the view does not exist (a workshop
server never exposes every learner's jobs by accident). Learners are shown by a short, non-reversible
tag of their session id, so the projected room view does not leak the ids that reopen sessions.

>>> check_passcode("s3cret", "s3cret"), check_passcode("guess", "s3cret"), check_passcode("", "")
(True, False, False)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from dataclasses import dataclass
from pathlib import Path

from core.runtime import jobs
from core.runtime.workspace import read_json

PASSCODE_ENV = "RAGFT_TEACHER_PASSCODE"


def teacher_passcode() -> str:
    """The configured passcode, or "" when the room view is switched off."""
    return os.environ.get(PASSCODE_ENV, "").strip()


def check_passcode(given: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected passcode never matches."""
    return bool(expected) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def learner_tag(owner: str) -> str:
    """A short stable tag for a session folder, e.g. ``learner 3f9a``: not the id that reopens it."""
    return "learner " + hashlib.sha256(Path(owner).name.encode("utf-8")).hexdigest()[:4]


@dataclass(frozen=True)
class JobRow:
    id: str
    learner: str
    label: str
    state: str  # queued | running | done | failed | stopped
    position: int | None  # place in the queue, 1 = next
    step: int | None
    total_steps: int | None  # from the run's config when it fixes the step count
    loss: float | None
    seconds: float | None  # since the job was queued


@dataclass(frozen=True)
class RoomSnapshot:
    jobs: list[JobRow]
    cpu_percent: float  # whole machine, averaged over all cores
    cpu_count: int
    memory_used_gb: float
    memory_total_gb: float
    process_memory_gb: float  # this server process (models, indexes, sessions)
    runner: str = "local"  # where jobs run: "local" (this server) or "ray"
    cluster: object = None  # a ``core.runtime.ray_executor.ClusterView`` (nodes, CPUs in use) when on Ray
    notice: str = ""  # why jobs run locally although a cluster was asked for

    @property
    def running(self) -> list[JobRow]:
        return [j for j in self.jobs if j.state == "running"]

    @property
    def queued(self) -> list[JobRow]:
        return sorted((j for j in self.jobs if j.state == "queued"), key=lambda j: j.position or 0)


def job_row(status: jobs.JobStatus, now: float | None = None) -> JobRow:
    """One row of the room's table; an evaluation job (no run folder) shows its queue state and time."""
    on_disk = (read_json(Path(status.run_dir) / "metrics.json", {}) or {}) if status.run_dir is not None else {}
    config = on_disk.get("config") or {}
    started = on_disk.get("started_at", status.started_at)
    loss = status.metrics.get("loss", status.metrics.get("train_loss"))
    name = status.label or (Path(status.run_dir).name if status.run_dir is not None else status.id)
    return JobRow(status.id, learner_tag(status.owner), name, status.state,
                  status.position, status.metrics.get("step"), config.get("max_steps") or None,
                  float(loss) if isinstance(loss, (int, float)) else None,
                  round((now or time.time()) - started, 1) if isinstance(started, (int, float)) else None)


def room_snapshot(queue: jobs.JobQueue | None = None) -> RoomSnapshot:
    """Every job this server process knows (live first), CPU and memory now (psutil), and the Ray cluster's
    nodes and CPUs in use when jobs run there (a job is "queued" until a worker takes it)."""
    import psutil

    queue = queue or jobs.QUEUE
    statuses = queue.jobs()
    order = {"running": 0, "queued": 1}
    rows = sorted((job_row(s) for s in statuses), key=lambda r: (order.get(r.state, 2), r.position or 0))
    memory = psutil.virtual_memory()
    return RoomSnapshot(rows, psutil.cpu_percent(interval=0.2), psutil.cpu_count() or 1,
                        round(memory.used / 1e9, 2), round(memory.total / 1e9, 2),
                        round(psutil.Process().memory_info().rss / 1e9, 2), queue.executor.name,
                        queue.executor.cluster(), queue.executor.notice)
