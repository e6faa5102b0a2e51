"""Helpers the browser tests share: sessions, widgets, a training run, the XSS probe.

Every test opens its own named session with ``goto`` (the first visit creates it, with its cookie), so a
test never depends on another having run first.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from urllib.parse import parse_qs, urlparse

from tests.browser.conftest import ROOT, wait_idle

# --- sessions and widgets ----------------------------------------------------------------------

FLOW_SID = "flowtour01"  # the session ``goto`` opens when a test names none


_SESSIONS: dict[str, tuple[str, list[dict]]] = {}  # test name of a session -> (its real id, its browser's cookies)


def real_sid(sid: str) -> str:
    """The generated session id behind the name a test gave its session (after its first ``goto``)."""
    return _SESSIONS[sid][0]


def goto(page, lab_url: str, path: str, sid: str = FLOW_SID) -> None:
    """Open ``path`` in the session the tests call ``sid``, as the browser that made it (its cookie, its URL)."""
    if sid not in _SESSIONS:
        page.goto(f"{lab_url}/{path}")
        wait_idle(page)
        page.wait_for_function("document.cookie.includes('ragft_browser=')")
        real = parse_qs(urlparse(page.url).query)["sid"][0]
        _SESSIONS[sid] = real, [c for c in page.context.cookies() if c["name"] == "ragft_browser"]
        return
    real, cookies = _SESSIONS[sid]
    page.context.add_cookies(cookies)
    page.goto(f"{lab_url}/{path}?sid={real}")
    wait_idle(page)


def show_uploads(page) -> None:
    """A new page load starts on a sample corpus: switch to the session's uploads."""
    button = page.get_by_role("button", name="Use my uploads as the corpus")
    if not button.is_visible():
        page.get_by_text("Upload your own documents").click()
    if button.count():
        button.click()
        wait_idle(page)


def sid_of(page) -> str:
    return parse_qs(urlparse(page.url).query)["sid"][0]


def upload_files(page, paths) -> None:
    """Open the upload expander if needed, pick the files in the browser's file chooser, wait for the rerun."""
    dropzone = page.locator("[data-testid='stFileUploaderDropzone']")
    for _ in range(3):  # a click on the expander during a rerun can land as it redraws: check it opened
        if dropzone.first.is_visible():
            break
        page.get_by_text("Upload your own documents").click()
        try:
            dropzone.first.wait_for(state="visible", timeout=10_000)
        except Exception:  # noqa: BLE001 (closed again by a rerun, or not drawn yet: look again)
            wait_idle(page)
    with page.expect_file_chooser() as chooser:
        dropzone.locator("button").first.click()
    chooser.value.set_files([str(p) for p in paths])
    page.wait_for_timeout(1500)  # the upload and the rerun it starts
    wait_idle(page)


def ask(page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")
    page.wait_for_timeout(500)
    wait_idle(page)


def set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_timeout(300)
    wait_idle(page)


def no_errors(page) -> None:
    for testid in ("stException", "stAlertContentError"):
        boxes = page.locator(f"[data-testid='{testid}']")
        assert boxes.count() == 0, boxes.all_inner_texts()


def painted_html(page) -> str:
    """The chunk painting: the st.html block holding the numbered chunk badges."""
    return page.locator("[data-testid='stHtml']").filter(has=page.locator("sup")).first.inner_html()


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled exactly ``label`` (retrying the click if a rerun swallowed it)."""
    wait_idle(page)
    box = page.locator("[data-testid='stSelectbox']").filter(
        has=page.locator("[data-testid='stWidgetLabel']").get_by_text(label, exact=True)).first
    wanted = page.get_by_role("option").filter(has_text=option).first
    for _ in range(3):
        box.click()
        try:
            wanted.wait_for(timeout=15_000)
            break
        except Exception:  # the dropdown closed during a rerun: open it again
            page.keyboard.press("Escape")
            wait_idle(page)
    wanted.click()
    page.wait_for_timeout(300)
    wait_idle(page)


def run_line(page):
    """The live panel's headline: "Run <name> — <icon> <state>" (the fragment redraws it every second)."""
    return page.locator("[data-testid='stMarkdown']").filter(has_text=re.compile(r"^Run \S+ — ")).first


# --- training -----------------------------------------------------------------------------------

STEPS = 12
FULL = bool(os.environ.get("RAGFT_WATCH_FULL"))  # the default 40-step run on the corpus Q&A set (README figure)


def start_run(page, lab_url: str, sid: str, steps: int = STEPS, eval_every: int | None = None) -> str:
    """Start a LoRA run on five typed Q&A rows (or the default run when FULL); return the run's name.

    ``eval_every`` defaults to ``steps`` (one evaluation, at the end); the page allows at most 500.
    """
    goto(page, lab_url, "finetune", sid)  # private sessions: the browser that made it, with its cookie
    if not FULL:
        page.get_by_text("Type rows in a table").click()  # five Q&A rows: the evaluations stay short
        page.wait_for_timeout(300)
        wait_idle(page)
        set_number(page, "Training steps", steps)
        set_number(page, "Evaluate every (steps)", eval_every or steps)
    # enabled once the typed rows and settings have been read back; a loaded machine may need minutes for that
    page.get_by_role("button", name="▶ Start training").click(timeout=240_000)
    run_line(page).wait_for(timeout=60_000)
    return run_line(page).locator("code").inner_text()


# --- markup that must stay inert ------------------------------------------------------------------

PAYLOAD = '<script>window.__xss=1</script> <img src=x onerror="window.__xss=1"> <b>bold-marker</b>'
LIVE = """() => ({
    xss: window.__xss,
    bold: [...document.querySelectorAll('b')].filter(b => b.textContent.trim() === 'bold-marker').length,
    img: document.querySelectorAll('img[src="x"]').length,
    script: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('__xss')).length,
})"""


# --- numbers the README quotes ----------------------------------------------------------------------

RESULTS = ROOT / "test-artifacts" / "reliability.json"


def record(key: str, value) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[key] = value
    RESULTS.write_text(json.dumps(data, indent=2))


def run_async(coroutine):
    """Run an async Playwright scenario to its end from a test.

    The sync ``browser``/``page`` fixtures keep an event loop running in the test's thread once any earlier
    test used them, and ``asyncio.run`` refuses to start inside a running loop; a thread of its own has none.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# 20 browser sessions at once on one 2-core server take 5-10 minutes: load tests run when asked (RAGFT_LOAD_TESTS=1).
LOAD_TEST = __import__("pytest").mark.skipif(not os.environ.get("RAGFT_LOAD_TESTS"),
                                             reason="load test (5-10 min on 2 cores): set RAGFT_LOAD_TESTS=1")
