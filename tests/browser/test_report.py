"""The take-home report: one click in the sidebar, then the file opens from disk (file://) with no server,
showing the session's answers and its training curves."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot, wait_idle
from tests.browser.helpers import ask, goto, start_run

SID = "reportsession1"
pytestmark = pytest.mark.slow


def test_session_report_opens_offline_with_answers_and_curves(page, lab_url, tmp_path):
    run = start_run(page, lab_url, SID, steps=2)  # a short run on five Q&A rows of the default 🧪 corpus
    page.locator("[data-testid='stMarkdown']").filter(has_text=run).filter(has_text="done").first.wait_for(
        timeout=900_000)
    goto(page, lab_url, "answers", sid=SID)
    ask(page, "Your question", "How much is the Wilarmore Blender?")
    page.get_by_role("button", name="Ask all five").click()
    # on a loaded machine the click's run can start after an idle page was read: wait for the answers' marks
    page.get_by_text(re.compile(r"^(✅ contains|❌ no) ")).nth(1).wait_for(timeout=180_000)
    wait_idle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Session report")).click()
    path = tmp_path / "report.html"
    download.value.save_as(path)

    offline = page.context.browser.new_context(offline=True)  # no server, no network
    view = offline.new_page()
    view.goto(path.as_uri())
    view.wait_for_selector(".js-plotly-plot", timeout=30_000)
    text = view.locator("body").inner_text()
    assert "Side-by-side answers" in text and "Question:" in text and "rag" in text
    assert "Fine-tuning runs" in text and view.locator(".js-plotly-plot").count() >= 2  # training curves drawn
    assert "None" not in text
    screenshot(view, "report")
    offline.close()
