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
import threading
import time
from collections import deque
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


@dataclass(frozen=True)
class FailedAttempt:
    at: float  # time.time()
    client: str  # a short tag of the client (not its address)
    failures: int  # this client's wrong tries in a row
    wait_s: float  # how long it must now wait before the next try


class PasscodeGate:
    """Rate-limits teacher passcode tries per client: after ``allowed`` wrong tries in a row, each further
    try must wait ``base_wait_s`` × 2^(extra failures) (capped at ``max_wait_s``). A right passcode resets it.
    Every wrong try is logged for the room view.

    >>> gate = PasscodeGate(allowed=2, base_wait_s=10)
    >>> [gate.attempt("pc1", "guess", "s3cret", now=0.0) for _ in range(3)]
    [(False, 0.0), (False, 10.0), (False, 10.0)]
    >>> gate.attempt("pc1", "s3cret", "s3cret", now=5.0), gate.attempt("pc1", "s3cret", "s3cret", now=11.0)
    ((False, 5.0), (True, 0.0))
    """

    def __init__(self, allowed: int = 3, base_wait_s: float = 5.0, max_wait_s: float = 600.0, log_size: int = 200):
        self.allowed, self.base_wait_s, self.max_wait_s = allowed, base_wait_s, max_wait_s
        self._clients: dict[str, tuple[int, float]] = {}  # client → (wrong tries in a row, may try again at)
        self._log: deque[FailedAttempt] = deque(maxlen=log_size)
        self._lock = threading.Lock()

    def wait_s(self, client: str, now: float | None = None) -> float:
        """Seconds this client must still wait before its next try (0 = it may try now)."""
        now = time.time() if now is None else now
        return max(0.0, self._clients.get(client, (0, 0.0))[1] - now)

    def attempt(self, client: str, given: str, expected: str, now: float | None = None) -> tuple[bool, float]:
        """(accepted, seconds to wait): a try while the client must wait is refused without being checked."""
        now = time.time() if now is None else now
        with self._lock:
            wait = self.wait_s(client, now)
            if wait > 0:
                return False, round(wait, 1)
            if check_passcode(given, expected):
                self._clients.pop(client, None)
                return True, 0.0
            failures = self._clients.get(client, (0, 0.0))[0] + 1
            extra = failures - self.allowed
            wait = 0.0 if extra < 0 else float(min(self.max_wait_s, self.base_wait_s * 2 ** extra))
            self._clients[client] = (failures, now + wait)
            self._log.append(FailedAttempt(now, client_tag(client), failures, wait))
            return False, wait

    def failed_attempts(self) -> list[FailedAttempt]:
        """Wrong tries, newest first."""
        return list(reversed(self._log))


def client_tag(client: str) -> str:
    """``client 9c1e``: which computer tried, without showing its address on a projected screen."""
    return "client " + hashlib.sha256(client.encode("utf-8")).hexdigest()[:4]


_GATE: PasscodeGate | None = None


def passcode_gate() -> PasscodeGate:
    """The server's one gate (its allowance from ``RAGFT_PASSCODE_FAILURES``)."""
    global _GATE
    if _GATE is None:
        from core.runtime.limits import limits

        _GATE = PasscodeGate(allowed=limits().passcode_failures)
    return _GATE


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
