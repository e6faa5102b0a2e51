"""How long slow operations take on *this* machine: measured when they run, remembered, quoted next time.

A canned "this takes a minute" is wrong on a fast laptop and on a busy 2-core classroom server alike.
Instead every slow operation is timed when it runs; the seconds per item (per chunk, per question, per
size…) are kept in ``<workspace>/timings.json``, shared by all sessions, so the next learner sees
"about 40 s here" *before* pressing the button. While it runs, the time left comes from the pace so far.

>>> import tempfile
>>> t = Timings(Path(tempfile.mkdtemp()) / "timings.json")
>>> t.estimate("umap", 200) is None          # never measured here: say so, do not guess
True
>>> t.record("umap", 20.0, items=200)        # 0.1 s per chunk
>>> t.estimate("umap", 300)
30.0
>>> about(t.estimate("umap", 300))
'about 30 s'
>>> seconds_left(elapsed=12.0, done=3, total=10)   # 4 s per item so far, 7 items to go
28.0
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from core.runtime.workspace import read_json, update_json

TIMINGS_FILE = "timings.json"
WEIGHT_NEW = 0.5  # a new measurement counts half: follows a machine that got busier, without jumping on one outlier
MIN_SECONDS = 0.5  # shorter runs were cache hits or trivially small, not a measurement of the work
SLOW_S = 3.0  # operations expected to take longer than this say so before they are chosen

_lock = threading.Lock()  # sessions are threads of one server process: one writer at a time


def seconds_left(elapsed: float, done: int, total: int) -> float | None:
    """Time left at the pace so far (``None`` before the first item is done).

    >>> seconds_left(10.0, 0, 5) is None
    True
    >>> seconds_left(10.0, 5, 5)
    0.0
    """
    if done <= 0 or total <= 0:
        return None
    return max(elapsed, 0.0) * max(total - done, 0) / done


def about(seconds: float | None) -> str:
    """Rounded words for a duration: what a learner needs to decide whether to wait.

    >>> [about(s) for s in (0.2, 4.4, 42, 130, 600, None)]
    ['under a second', 'about 4 s', 'about 40 s', 'about 2 min', 'about 10 min', 'unknown']
    """
    if seconds is None or math.isnan(seconds):
        return "unknown"
    if seconds < 1:
        return "under a second"
    if seconds < 10:
        return f"about {seconds:.0f} s"
    if seconds < 100:
        return f"about {round(seconds, -1):.0f} s"
    return f"about {max(2, round(seconds / 60)):.0f} min"


class Timings:
    """Seconds per item of each operation on this machine, in one small JSON file.

    The file maps an operation's name to ``{"per_item": s, "runs": n, "at": unix time}``.
    Names are short and stable (``"umap"``, ``"sweep size"``, ``"batch eval answer"``), one per kind of work.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _read(self) -> dict:
        data = read_json(self.path, {})
        return data if isinstance(data, dict) else {}

    def per_item(self, op: str) -> float | None:
        entry = self._read().get(op)
        try:
            value = float(entry["per_item"])
        except (TypeError, KeyError, ValueError):
            return None
        return value if value >= 0 and math.isfinite(value) else None

    def estimate(self, op: str, items: int = 1) -> float | None:
        """Seconds ``items`` items of ``op`` should take here, or ``None`` when never measured."""
        per = self.per_item(op)
        return None if per is None else per * max(items, 1)

    def record(self, op: str, seconds: float, items: int = 1) -> None:
        """Remember one run (a moving average with earlier runs); runs under MIN_SECONDS are ignored."""
        if seconds < MIN_SECONDS or items <= 0:
            return
        per = seconds / items

        def add(data) -> dict:
            data = data if isinstance(data, dict) else {}
            old = data.get(op) if isinstance(data.get(op), dict) else {}
            mean = per
            if isinstance(old.get("per_item"), (int, float)):
                mean = WEIGHT_NEW * per + (1 - WEIGHT_NEW) * float(old["per_item"])
            data[op] = {"per_item": round(mean, 4), "runs": int(old.get("runs", 0)) + 1, "at": round(time.time())}
            return data

        with _lock:  # threads of this server; update_json's file lock covers other servers on the folder
            update_json(self.path, add, {})

    @contextmanager
    def measure(self, op: str, items: int = 1) -> Iterator[None]:
        """Time the block and record it, unless it raised (a failed run measures nothing)."""
        start = time.perf_counter()
        yield
        self.record(op, time.perf_counter() - start, items)


def server_timings() -> Timings:
    """This server's measurements, in its workspace (``$RAGFT_WORKSPACE``), so a restart keeps them."""
    from core.runtime.workspace import default_root

    return Timings(default_root().resolve() / TIMINGS_FILE)


def expectation(timings: Timings, op: str, items: int = 1) -> str:
    """What to say before the work starts: the measured estimate, or that the first run measures it.

    >>> import tempfile
    >>> t = Timings(Path(tempfile.mkdtemp()) / "timings.json")
    >>> expectation(t, "sweep size", 5)
    'not timed on this machine yet, so this run measures it'
    >>> t.record("sweep size", 12.0, 4)
    >>> expectation(t, "sweep size", 5)
    'about 20 s here (measured on this machine)'
    """
    seconds = timings.estimate(op, items)
    if seconds is None:
        return "not timed on this machine yet, so this run measures it"
    return f"{about(seconds)} here (measured on this machine)"


def progress_words(what: str, done: int, total: int, elapsed: float, expected: float | None = None) -> str:
    """The text beside a progress bar: how far, and the time left at the pace so far.

    Before the first item is done, the measured estimate (if any) stands in for the pace;
    ``total`` 0 means the count is not known yet.

    >>> progress_words("Scoring", 0, 10, 0.0, expected=50.0)
    'Scoring… 0/10 · about 50 s left (measured here before)'
    >>> progress_words("Scoring", 0, 0, 0.0)
    'Scoring… · not timed on this machine yet'
    >>> progress_words("Scoring", 4, 10, 8.0)
    'Scoring… 4/10 · 8 s so far · about 10 s left'
    >>> progress_words("Scoring", 10, 10, 20.0)
    'Scoring… 10/10 · 20 s so far · under a second left'
    """
    head = f"{what}… {done}/{total}" if total > 0 else f"{what}…"
    left = seconds_left(elapsed, done, total)
    if left is not None:
        return f"{head} · {elapsed:.0f} s so far · {about(left)} left"
    if expected is not None:
        return f"{head} · {about(expected)} left (measured here before)"
    return f"{head} · not timed on this machine yet"
