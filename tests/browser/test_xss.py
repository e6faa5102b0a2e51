"""Uploaded text is shown as text, never run as HTML, on every page that paints it (real Chromium).

The uploads carry a ``<script>``, an ``<img onerror=…>`` and a ``<b>bold-marker</b>``. In the browser,
``window.__xss`` must stay undefined and no ``<b>`` element may hold exactly "bold-marker", while the
escaped markup is visible as characters on the page.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, wait_idle
from tests.browser.test_flows import ask, goto, no_errors, upload_files

SID = "xsscheck01"
PAYLOAD = '<script>window.__xss=1</script> <img src=x onerror="window.__xss=1"> <b>bold-marker</b>'
TXT = f"Notes about the vault. {PAYLOAD} The vault code is 7731 and the vault opens at noon."
HTML = ("<html><body><h1>Vault</h1><p>The vault code is 7731. "
        "&lt;script&gt;window.__xss=1&lt;/script&gt; &lt;img src=x onerror=\"window.__xss=1\"&gt; "
        "&lt;b&gt;bold-marker&lt;/b&gt;</p><script>window.__xss=1</script>"
        "<img src=x onerror=\"window.__xss=1\"></body></html>")
LIVE = """() => ({
    xss: window.__xss,
    bold: [...document.querySelectorAll('b')].filter(b => b.textContent.trim() === 'bold-marker').length,
    img: document.querySelectorAll('img[src="x"]').length,
    script: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('__xss')).length,
})"""


def assert_inert(page, where: str) -> None:
    page.wait_for_timeout(500)  # give any onerror handler time to fire
    assert page.evaluate(LIVE) == {"xss": None, "bold": 0, "img": 0, "script": 0}, where
    assert "<b>bold-marker</b>" in page.inner_text("body"), f"{where}: the escaped text should be visible"
    no_errors(page)


@pytest.fixture
def uploaded(page, lab_url, tmp_path):
    (tmp_path / "vault.txt").write_text(TXT)
    (tmp_path / "vault.html").write_text(HTML)
    goto(page, lab_url, "documents", SID)
    upload_files(page, [tmp_path / "vault.txt", tmp_path / "vault.html"])
    return page


def open_in_app(page, title: str) -> None:
    """Move to another page through the sidebar, in the same session (keeps "My uploads" as the corpus)."""
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click()
    page.wait_for_timeout(800)
    wait_idle(page)


def test_uploaded_markup_never_runs(uploaded):
    page = uploaded
    assert_inert(page, "documents (painted chunks)")
    screenshot(page, "xss-documents")

    open_in_app(page, "Retrieval hits")
    ask(page, "Your question", "What is the vault code?")
    assert page.locator("[data-testid='stHtml']").filter(has_text="· score").count() >= 3
    assert_inert(page, "retrieval (hit cards)")
    screenshot(page, "xss-retrieval")

    open_in_app(page, "Embedding space")
    ask(page, "Your question", "When does the vault open?")
    points = page.locator("[data-testid='stPlotlyChart'] .point, [data-testid='stPlotlyChart'] .scatterlayer path")
    if points.count():
        points.first.hover(force=True)  # hover text is plotly HTML: it must hold the escaped preview
        page.wait_for_timeout(500)
    assert page.evaluate(LIVE) == {"xss": None, "bold": 0, "img": 0, "script": 0}
    no_errors(page)
    screenshot(page, "xss-embeddings")
