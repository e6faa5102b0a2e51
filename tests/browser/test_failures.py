"""Why answers failed, in a real browser: run a small batch evaluation, see the Sankey from one system to another,
open one question's drill-down and re-run it with the knob turned; screenshots for the README."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, screenshot, wait_idle
from tests.browser.helpers import choose, goto, no_errors

SID = "failures01"
pytestmark = pytest.mark.slow


def _open_tab(page, name: str) -> None:
    """Click the tab until it is the selected one (a click during a rerun can be lost)."""
    tab = page.get_by_role("tab", name=name)
    for _ in range(5):
        wait_idle(page)
        if tab.get_attribute("aria-selected") == "true":
            return
        tab.click()
        page.wait_for_timeout(700)
    assert tab.get_attribute("aria-selected") == "true"


def _slider_to_start(page, label: str) -> None:
    """Move the slider labelled ``label`` to its smallest value with the keyboard."""
    slider = page.locator("[data-testid='stSlider']").filter(has_text=label).first.get_by_role("slider")
    slider.focus()
    slider.press("Home")
    page.wait_for_timeout(400)
    wait_idle(page)


def test_sankey_and_drill_down(page, lab_url):
    goto(page, lab_url, "experiments", sid=SID)
    _open_tab(page, "Batch evaluation")
    _slider_to_start(page, "Paraphrases per question")
    _open_tab(page, "Batch evaluation")  # a rerun may have drawn the first tab again
    run = page.get_by_role("button", name="Run the batch evaluation")
    try:
        run.wait_for(timeout=120_000)
    except Exception:
        screenshot(page, "failures_no_button")  # what the page showed instead
        raise
    run.click()
    heading = page.get_by_text("Why each answer failed", exact=True)
    heading.wait_for(timeout=600_000)
    wait_idle(page)
    sankey = page.locator(".js-plotly-plot").filter(has=page.locator(".sankey"))
    sankey.first.wait_for(timeout=60_000)
    assert page.locator(".sankey-node").count() >= 2
    choose(page, "To system", "long-context")
    _shot_between(page, heading, sankey.first, "failures_sankey")

    choose(page, "Answer", "long-context · ✂️")  # a question the window cut from long context's prompt
    page.get_by_text("Where the value is in the documents").wait_for()
    page.get_by_text("What reached the prompt").wait_for()
    page.get_by_role("button", name="More room for the prompt").click()
    page.get_by_text("After answer cap").first.wait_for(timeout=180_000)
    wait_idle(page)
    no_errors(page)
    screenshot(page, "failures_page")
    _shot_between(page, page.get_by_text("Drill down: one question"), page.get_by_text("After answer cap").first,
                  "failures_drill_down")


def _shot_between(page, first, last, name: str) -> None:
    """A screenshot from the top of ``first`` to the bottom of ``last`` (the page grown to hold both)."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 40, 5000)})
    page.wait_for_timeout(800)
    top, bottom = first.bounding_box(), last.bounding_box()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True,
                    clip={"x": 300, "y": top["y"] - 10, "width": 1100, "height": bottom["y"] + bottom["height"] - top["y"] + 40})
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.wait_for_timeout(500)
