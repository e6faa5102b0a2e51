"""Reranking before/after and "why is this a hit" in real Chromium: the slope chart draws, matched terms
are <mark>ed, and a chunk holding ``<script>`` stays inert text."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.browser.helpers import LIVE, PAYLOAD, ask, goto, no_errors, upload_files

SID = "rerankview01"


def test_before_after_and_highlighting_keep_markup_inert(page, lab_url, tmp_path):
    (tmp_path / "vault.txt").write_text(f"Notes about the vault. {PAYLOAD} The vault code is 7731 and it opens at noon.")
    (tmp_path / "garden.txt").write_text("The garden gate opens at nine. Roses grow by the wall of the old vault.")
    goto(page, lab_url, "documents", SID)
    upload_files(page, [tmp_path / "vault.txt", tmp_path / "garden.txt"])
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text="Retrieval hits").first.click()
    page.wait_for_timeout(800)
    ask(page, "Your question", "What is the vault code?")

    header = page.get_by_role("heading", name="Reranking: before and after")
    header.scroll_into_view_if_needed()
    assert page.get_by_text("Before: hybrid top 2").count() == 1
    assert page.get_by_text("After: fused").count() == 1
    slope = page.locator("[data-testid='stPlotlyChart']").filter(has_text="reranked")
    assert slope.count() >= 1
    cards = page.locator("[data-testid='stHtml']").filter(has_text="BM25 terms")
    assert cards.count() == 4  # two chunks, before and after
    marks = page.locator("[data-testid='stHtml'] mark")
    assert marks.filter(has_text="vault").count() >= 2 and marks.filter(has_text="code").count() >= 1
    page.wait_for_timeout(500)
    assert page.evaluate(LIVE) == {"xss": None, "bold": 0, "img": 0, "script": 0}
    assert "<script>window.__xss=1</script>" in cards.first.inner_text() or \
        "<script>window.__xss=1</script>" in cards.nth(1).inner_text()
    no_errors(page)
    screenshot(page, "rerank-before-after")
