"""Where a job runs: in this process (the embedded default) or on a Ray cluster, chosen once per process.

The job owner (``core.runtime.jobs``) hands every job to an executor and chooses which one
(``ray_executor.executor_for``); pages and the CLI never know which. This module holds what both sides of
that hand-over share: the context a job's work gets, the errors, and the local executor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

class WorkerLost(Exception):
    """The process running a job went away mid-run (a Ray worker killed, a node lost): retry it."""


@dataclass
class JobContext:
    """What a job's ``work`` function gets: a stop flag to check each step and a way to report progress."""

    should_stop: Callable[[], bool]
    report: Callable[[dict], None]
    started: Callable[[dict], None] = lambda where: None  # the executor says where it runs: runner, worker_pid


WHERE_KEYS = ("label", "runner", "worker_pid", "node")  # what the job queue writes into a run's metrics.json


def keeping_where(old: dict | None, new: dict) -> dict:
    """``new`` metrics (a training run's own, rewritten whole) with the queue's ``WHERE_KEYS`` kept from ``old``.

    >>> keeping_where({"runner": "ray", "worker_pid": 7, "steps": [1]}, {"steps": [1, 2], "status": "running"})
    {'runner': 'ray', 'worker_pid': 7, 'steps': [1, 2], 'status': 'running'}
    """
    return {**{k: v for k, v in (old or {}).items() if k in WHERE_KEYS}, **new}


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
