"""Watching a training run in the browser must not slow it down (issue 18: the file watcher made it 3–15×).

The same short LoRA run twice on the server started as the README does: once with its fine-tuning page
open the whole time (the live panel polling), once with the browser on another page. The steps' own time
(the median step in metrics.json, the first left out) is compared; the README quotes the ratio this test prints.
"""

from __future__ import annotations

import json
import statistics
import time

import pytest

from tests.browser.conftest import wait_idle
from tests.browser.helpers import real_sid, start_run

pytestmark = pytest.mark.slow


def _wait_done(workspace, sid: str, run: str, timeout: float = 900) -> dict:
    path = workspace / "sessions" / real_sid(sid) / "adapters" / run / "metrics.json"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            metrics = json.loads(path.read_text())
        except (OSError, ValueError):
            metrics = {}
        if metrics.get("status") in ("done", "failed", "stopped"):
            assert metrics["status"] == "done", metrics.get("message")
            return metrics
        time.sleep(1)
    raise AssertionError(f"{run} did not finish in {timeout} s")


def median_step_seconds(metrics: dict) -> float:
    """The median optimiser step's time (tokens / tokens-per-second), the first step (warm-up) left out."""
    rows = metrics["steps"][1:] or metrics["steps"]
    return statistics.median(r["tokens"] / r["tokens_per_s"] for r in rows)


def test_watching_a_run_costs_at_most_twice_its_step_time(page, lab_url, lab_workspace):
    watched_run = start_run(page, lab_url, "watchcost1")
    start = time.time()
    while time.time() - start < 900:  # keep the page open and polling until the run is done
        if page.locator("[data-testid='stMarkdown']").filter(has_text=watched_run).filter(has_text="done").count():
            break
        page.wait_for_timeout(1000)
    watched_metrics = _wait_done(lab_workspace, "watchcost1", watched_run)
    watched = median_step_seconds(watched_metrics)

    unwatched_run = start_run(page, lab_url, "watchcost2")
    page.goto(f"{lab_url}/?sid={real_sid('watchcost2')}")  # leave for the Overview: nobody watches the run
    wait_idle(page)
    unwatched_metrics = _wait_done(lab_workspace, "watchcost2", unwatched_run)
    unwatched = median_step_seconds(unwatched_metrics)
    total = watched_metrics["summary"]["seconds"], unwatched_metrics["summary"]["seconds"]
    print(f"\nseconds per step: watched {watched:.3f}, unwatched {unwatched:.3f}, ratio {watched / unwatched:.2f}; "
          f"whole run (training + evaluations): watched {total[0]:.0f} s, unwatched {total[1]:.0f} s, "
          f"ratio {total[0] / total[1]:.2f}")
    assert watched <= 2 * unwatched, (watched, unwatched)
