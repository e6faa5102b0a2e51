"""Where a job runs: in this process (the embedded default) or on a Ray cluster, chosen once per process.

The job owner (``core.runtime.jobs``) hands every job to an executor; pages and the CLI never
know which. ``$RAGFT_RAY_ADDRESS`` (or the CLI's ``--ray ADDRESS``) names a Ray cluster's GCS
address (``host:port``, as ``ray start --head`` prints it). A cluster that cannot be reached at
start is said in one line and jobs run locally: a laptop never needs Ray.

>>> executor_for(None).name
'local'
>>> executor_for("127.0.0.1:1", say=lambda line: None).name       # nothing listens there
'local'
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable

ADDRESS_ENV = "RAGFT_RAY_ADDRESS"


class ClusterUnreachable(Exception):
    """The Ray cluster named could not be reached (or Ray is not installed): run locally instead."""


@dataclass
class LocalExecutor:
    """Run the job in the calling thread of this process: today's in-process queue."""

    notice: str = ""  # why jobs run here although a cluster was asked for ("" when none was)
    name: str = "local"
    remote: bool = False  # jobs of a lane run one after another in this process

    def run(self, job, ctx):
        ctx.started({"runner": "local", "worker_pid": os.getpid()})
        return job.work(ctx) if job.work is not None else job.spec(ctx)

    def cluster(self) -> None:
        """No cluster: the room view shows this machine only."""
        return None


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def executor_for(address: str | None, say: Callable[[str], None] = _say):
    """A ``RayExecutor`` connected to ``address``, or a ``LocalExecutor`` (with one line said when it fell back)."""
    address = (address or "").strip()
    if not address:
        return LocalExecutor()
    try:
        from core.runtime.ray_executor import RayExecutor

        return RayExecutor.connect(address)
    except ClusterUnreachable as exc:
        line = f"The Ray cluster at {address} cannot be reached ({exc}); jobs run locally in this process."
        say(line)
        return LocalExecutor(notice=line)


def default_executor():
    """The executor ``$RAGFT_RAY_ADDRESS`` asks for (local when unset or unreachable)."""
    return executor_for(os.environ.get(ADDRESS_ENV))
