"""Honest waiting on screen: slow work says about how long it takes *here*, before and while it runs.

The one home for it in the UI. The numbers come from ``core.runtime.timings`` (measured on this server,
shared by every session), never from a canned string:

* ``cost_note(op, items)`` and ``costs_line``: words for a button's help or a caption, before anything is chosen;
* ``waiting(op, text, items)``: a spinner for one call that reports no progress (a fit, a cached score),
  with the expected time and the elapsed seconds; the run is timed for next time;
* ``progress_bar(op, text, items)``: a bar for work that reports ``(done, total)``, with the time left
  at the pace so far (the measured estimate until the first item is done).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

import streamlit as st

from core.runtime.timings import Timings, about, expectation, progress_words, server_timings


def timings() -> Timings:
    """This server's measurements (in its workspace, so a restart keeps them)."""
    return server_timings()


def cost_note(op: str, items: int = 1) -> str:
    """'about 40 s here (measured on this machine)', or that the first run will measure it."""
    return expectation(timings(), op, items)


def costs_line(choices: dict[str, tuple[str, int]], n_chunks: int | None = None) -> str:
    """One caption for heavy options, before one is chosen: {label: (op, items)} → their measured times here."""
    t = timings()
    parts = [f"{label} {about(t.estimate(op, items))}" if t.estimate(op, items) is not None
             else f"{label} not timed yet (its first run measures it)" for label, (op, items) in choices.items()]
    where = f"On this machine, for these {n_chunks:,} chunks" if n_chunks is not None else "On this machine"
    return f"⏳ {where}: " + ", ".join(parts) + "."


@contextmanager
def waiting(op: str, text: str, items: int = 1) -> Iterator[None]:
    """A spinner that says the expected time and counts the seconds; the run is recorded when it succeeds."""
    with st.spinner(f"{text} ({cost_note(op, items)})", show_time=True):
        with timings().measure(op, items):
            yield


@contextmanager
def progress_bar(op: str, text: str, items: int | None = None) -> Iterator[Callable[..., None]]:
    """A progress bar; the block gets ``tick(done, total, what=None)`` to call as work advances.

    ``items`` is the size the estimate scales with (chunks, questions…), which may differ from the steps
    ``tick`` counts; ``None``: the first tick's ``total``. The bar is removed afterwards, and a run that
    finished is recorded for next time.
    """
    t = timings()
    size = {"items": items}
    expected = {"s": t.estimate(op, items) if items else None}
    bar = st.progress(0.0, text=progress_words(text, 0, 0, 0.0, expected["s"]))
    start = time.perf_counter()

    def tick(done: float, total: float, what: str | None = None) -> None:
        if size["items"] is None and total:
            size["items"], expected["s"] = int(total), t.estimate(op, int(total))
        fraction = min(max(done / total, 0.0), 1.0) if total else 1.0
        words = progress_words(what or text, int(done), int(total), time.perf_counter() - start, expected["s"])
        bar.progress(fraction, text=words)

    try:
        yield tick
        if size["items"]:
            t.record(op, time.perf_counter() - start, size["items"])
    finally:
        bar.empty()
