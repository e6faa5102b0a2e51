"""Uploaded text is shown as text, never run as HTML, on every page that paints it (real Chromium).

The uploads carry a ``<script>``, an ``<img onerror=…>`` and a ``<b>bold-marker</b>``. In the browser,
``window.__xss`` must stay undefined and no ``<b>`` element may hold exactly "bold-marker", while the
escaped markup is visible as characters on the page.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, wait_idle
from tests.browser.helpers import LIVE, PAYLOAD, ask, goto, no_errors, upload_files

SID = "xsscheck01"
TXT = f"Notes about the vault. {PAYLOAD} The vault code is 7731 and the vault opens at noon."
HTML = ("<html><body><h1>Vault</h1><p>The vault code is 7731. "
        "&lt;script&gt;window.__xss=1&lt;/script&gt; &lt;img src=x onerror=\"window.__xss=1\"&gt; "
        "&lt;b&gt;bold-marker&lt;/b&gt;</p><script>window.__xss=1</script>"
        "<img src=x onerror=\"window.__xss=1\"></body></html>")


def assert_inert(page, where: str) -> None:
    """Wait for the escaped markup to be drawn (the page may still be rendering), then check nothing ran.

    A live ``<img src=x>`` or ``<script>`` would be counted in the DOM whether or not its handler
    has fired yet, so no fixed wait is needed for the handlers.
    """
    expect(page.locator("body"), f"{where}: the escaped text should be visible").to_contain_text(
        "<b>bold-marker</b>", timeout=120_000)
    wait_idle(page)
    assert page.evaluate(LIVE) == {"xss": None, "bold": 0, "img": 0, "script": 0}, where
    no_errors(page)


@pytest.fixture
def uploaded(page, lab_url, tmp_path):
    (tmp_path / "vault.txt").write_text(TXT)
    (tmp_path / "vault.html").write_text(HTML)
    goto(page, lab_url, "documents", SID)
    upload_files(page, [tmp_path / "vault.txt", tmp_path / "vault.html"])
    return page


def open_in_app(page, title: str, path: str) -> None:
    """Move to another page through the sidebar, in the same session (keeps "My uploads" as the corpus)."""
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click()
    page.wait_for_url(f"**/{path}**")
    expect(page.get_by_label("Your question", exact=True)).to_be_visible(timeout=120_000)
    wait_idle(page)


def test_uploaded_markup_never_runs(uploaded):
    page = uploaded
    assert_inert(page, "documents (painted chunks)")
    screenshot(page, "xss-documents")

    open_in_app(page, "Retrieval hits", "retrieval")
    ask(page, "Your question", "What is the vault code?")
    expect(page.locator("[data-testid='stHtml']").filter(has_text="· score").nth(2)).to_be_visible(timeout=120_000)
    assert_inert(page, "retrieval (hit cards)")
    screenshot(page, "xss-retrieval")

    open_in_app(page, "Embedding space", "embeddings")
    ask(page, "Your question", "When does the vault open?")
    expect(page.locator("[data-testid='stPlotlyChart'] .main-svg").first).to_be_attached(timeout=120_000)
    points = page.locator("[data-testid='stPlotlyChart'] .point, [data-testid='stPlotlyChart'] .scatterlayer path")
    if points.count():  # an SVG map (a WebGL one has no elements to hover)
        points.first.hover(force=True)  # hover text is plotly HTML: it must hold the escaped preview
        try:  # a point's hover box appears; a line's path may draw none, and that is fine too
            page.locator(".hoverlayer .hovertext").first.wait_for(state="attached", timeout=5_000)
        except PlaywrightTimeout:
            pass
    assert page.evaluate(LIVE) == {"xss": None, "bold": 0, "img": 0, "script": 0}
    no_errors(page)
    screenshot(page, "xss-embeddings")
