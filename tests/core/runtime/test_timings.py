"""Honest waiting: estimates come from runs measured on this machine, and the time left from the pace so far."""

from __future__ import annotations

import json

import pytest

from core.runtime.timings import MIN_SECONDS, Timings, about, expectation, progress_words, seconds_left


@pytest.mark.parametrize("elapsed, done, total, left", [
    (10.0, 0, 5, None),   # nothing done yet: no pace to go on
    (10.0, 2, 10, 40.0),  # 5 s per item, 8 to go
    (10.0, 5, 5, 0.0),
    (3.0, 1, 0, None),    # total unknown
])
def test_time_left_follows_the_pace_so_far(elapsed, done, total, left):
    assert seconds_left(elapsed, done, total) == left


@pytest.mark.parametrize("seconds, words", [
    (0.3, "under a second"), (3.4, "about 3 s"), (44, "about 40 s"), (89, "about 90 s"), (150, "about 2 min"),
    (1800, "about 30 min"), (None, "unknown"),
])
def test_durations_are_rounded_words(seconds, words):
    assert about(seconds) == words


def test_a_measured_run_becomes_the_next_estimate_and_survives_a_restart(tmp_path):
    path = tmp_path / "timings.json"
    Timings(path).record("sweep size", 30.0, items=3)  # 10 s per size
    again = Timings(path)  # a new process reads the same file
    assert again.estimate("sweep size", 5) == pytest.approx(50.0)
    assert expectation(again, "sweep size", 5) == "about 50 s here (measured on this machine)"
    again.record("sweep size", 60.0, items=3)  # the machine got busier: 20 s per size, averaged with 10
    assert again.per_item("sweep size") == pytest.approx(15.0)
    assert json.loads(path.read_text())["sweep size"]["runs"] == 2


def test_cache_hits_and_failed_runs_are_not_measurements(tmp_path):
    t = Timings(tmp_path / "timings.json")
    t.record("umap", MIN_SECONDS / 2, items=40)  # a cache hit
    with pytest.raises(RuntimeError):
        with t.measure("umap", 40):
            raise RuntimeError("the fit failed")
    assert t.estimate("umap", 40) is None
    assert expectation(t, "umap", 40) == "not timed on this machine yet, so this run measures it"


def test_a_damaged_file_means_not_measured(tmp_path):
    path = tmp_path / "timings.json"
    path.write_text('{"umap": {"per_item": "fast"}, "pca": [1]}')
    t = Timings(path)
    assert t.estimate("umap") is None and t.estimate("pca") is None
    t.record("umap", 2.0, items=1)  # and the next run repairs it
    assert t.estimate("umap") == pytest.approx(2.0)


def test_the_bar_text_uses_the_estimate_until_the_first_item_is_done():
    assert progress_words("Sweeping", 0, 4, 0.0, expected=80.0) == "Sweeping… 0/4 · about 80 s left (measured here before)"
    assert progress_words("Sweeping", 1, 4, 30.0, expected=80.0) == "Sweeping… 1/4 · 30 s so far · about 90 s left"
    assert progress_words("Sweeping", 0, 4, 0.0) == "Sweeping… 0/4 · not timed on this machine yet"
