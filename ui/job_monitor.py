"""One widget for a page's background jobs: a bar with the time left and a Stop button for each live job.

A page starts work through core (``submit_training``, ``submit_evaluation``, ``jobs.submit``) and
``track``s the job id under a name of its own; ``job_monitor`` then draws every tracked job that is
queued or running, polling only while one is. The bar follows the job's own progress and time-left rule
(``core.runtime.jobs.job_progress``: what the job reported, ``{"done", "total"}``, at the pace so far),
the same for training and evaluation, here or on a Ray cluster. Stop is the job owner's stop, which an
executor maps to its cancel. The page never knows where a job runs.
"""

from __future__ import annotations

import streamlit as st

from core.runtime import jobs

ss = st.session_state
KEY = "exp_task_ids"  # name → job id, for this session (the report reads "eval" from it)


def track(name: str, job_id: str) -> None:
    """Remember ``job_id`` as this session's job ``name`` (a later start under the same name replaces it)."""
    ss.setdefault(KEY, {})[name] = job_id


def tracked(name: str) -> jobs.JobStatus | None:
    """The job behind ``name``: queued, running or finished (None before the first start)."""
    return jobs.status(ss.get(KEY, {}).get(name) or "")


def running(name: str) -> bool:
    status = tracked(name)
    return status is not None and status.state in jobs.LIVE


def live() -> dict[str, jobs.JobStatus]:
    """This session's tracked jobs that are queued or running: name → status."""
    return {name: status for name in ss.get(KEY, {}) if (status := tracked(name)) and status.state in jobs.LIVE}


def progress_line(status: jobs.JobStatus) -> tuple[float, str]:
    """(fraction, words) of one job's bar: its queue position, or its progress and time left."""
    if status.state == "queued":
        return 0.0, f"{status.label}: queued (position {status.position}), starts when the one before it ends"
    progress = jobs.job_progress(status)
    words = progress.words(status.label[:1].upper() + status.label[1:])
    loss = status.metrics.get("loss")
    return progress.fraction, words + (f" · loss {loss:.3f}" if isinstance(loss, (int, float)) else "")


def job_monitor(prefix: str = "exp") -> None:
    """Bars and Stop buttons for this session's live jobs, in their own fragment; reruns the page when one
    starts or ends (so its results show)."""
    polling = bool(live())  # an idle page does not rerun every second

    @st.fragment(run_every=1.0 if polling else None)
    def monitor() -> None:
        now = live()
        if set(now) != ss.get(f"{prefix}_live", set()):
            ss[f"{prefix}_live"] = set(now)
            st.rerun(scope="app")
        for name, status in now.items():
            fraction, words = progress_line(status)
            st.progress(fraction, text=words)
            if st.button("Stop", key=f"{prefix}_stop_{name}", help="Stops after the current step or answer; "
                         "what was finished is kept."):
                jobs.stop(status.id)

    monitor()
