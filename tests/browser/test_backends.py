"""The Embedding page's backend comparison in a real browser: one click, a progress bar, then the table."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, wait_idle
from tests.browser.helpers import choose, goto, no_errors


def test_compare_backends_on_a_click(page, lab_url):
    goto(page, lab_url, "embeddings", sid="backends01")
    choose(page, "Corpus", "Petal & Stem flower shop")
    button = page.get_by_role("button", name="⚡ Compare the three backends on this corpus")
    button.scroll_into_view_if_needed()
    button.click()
    lesson = page.get_by_text("Top-5 neighbours changed:")
    expect(lesson).to_be_visible(timeout=600_000)  # three backends embed the corpus: minutes on a busy machine
    wait_idle(page)
    no_errors(page)
    expect(page.locator("[data-testid='stDataFrame']")).to_have_count(1)
    lesson.scroll_into_view_if_needed()
    screenshot(page, "embeddings-backends")
