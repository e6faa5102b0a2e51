"""Real browsers against one server: tabs opened at once, blocked cookies, several learners asking at once,
and upload names that must keep their data.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import IDLE, screenshot, wait_idle
from tests.browser.helpers import upload_files

pytestmark = pytest.mark.browser

WARNINGS = "[data-testid='stAlertContentWarning']"
BLOCK_COOKIES = """Object.defineProperty(Document.prototype, "cookie",
    {configurable: true, get() { return ""; }, set(value) {}});
Object.defineProperty(Navigator.prototype, "cookieEnabled", {configurable: true, get() { return false; }});"""


def sid_of(page) -> str:
    return parse_qs(urlparse(page.url).query)["sid"][0]


def new_page(browser, init_script: str | None = None):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.set_default_timeout(120_000)
    return context, page


def test_two_tabs_opened_at_once_both_reopen_their_sessions(browser, lab_url):
    context, first = new_page(browser)
    try:
        second = context.new_page()
        second.set_default_timeout(120_000)
        first.goto(f"{lab_url}/documents", wait_until="commit")  # both tabs load before either cookie exists
        second.goto(f"{lab_url}/documents", wait_until="commit")
        wait_idle(first)
        wait_idle(second)
        sids = [sid_of(first), sid_of(second)]
        for tab in (first, second):
            tab.wait_for_function("document.cookie.includes('ragft_browser=')")
        first.wait_for_function("document.cookie.split('ragft_browser=')[1].split(';')[0].split('.').length >= 2")
        for sid in sids:  # a reload of each tab, later: its own session, no note
            tab = context.new_page()
            tab.goto(f"{lab_url}/documents?sid={sid}")
            wait_idle(tab)
            assert sid_of(tab) == sid
            assert tab.locator(WARNINGS).count() == 0, tab.locator(WARNINGS).all_inner_texts()
            tab.close()
    finally:
        context.close()


def test_blocked_cookies_keep_the_session_for_the_tab_and_say_so(browser, lab_url, tmp_path):
    context, page = new_page(browser, BLOCK_COOKIES)
    try:
        page.goto(f"{lab_url}/documents")
        wait_idle(page)
        sid = sid_of(page)
        note = page.locator("#ragft-cookie-note")
        note.wait_for(state="visible")
        assert "lasts as long as this tab" in note.inner_text()
        doc = tmp_path / "tab-only.txt"
        doc.write_text("The tab keeps this file while it stays open.")
        upload_files(page, [doc])
        page.get_by_role("link", name="Retrieval hits").first.click()  # another page in the same tab: same session
        wait_idle(page)
        assert sid_of(page) == sid
        screenshot(page, "bounds-blocked-cookies")

        page.reload()
        wait_idle(page)
        assert sid_of(page) != sid
        notes = " ".join(page.locator(WARNINGS).all_inner_texts())
        assert "sent no Lab cookie" in notes and "cookies may be blocked" in notes
        assert "belongs to another browser" not in notes
    finally:
        context.close()


def test_unicode_and_clashing_upload_names_all_survive(browser, lab_url, tmp_path):
    context, page = new_page(browser)
    try:
        page.goto(f"{lab_url}/documents")
        wait_idle(page)
        files = {"日本語.txt": "日本語の文書です。", "a b.txt": "The first file: spaces.", "a_b.txt": "The second file."}
        paths = []
        for name, text in files.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
            paths.append(tmp_path / name)
        upload_files(page, paths)
        for stored in ("日本語.txt", "a_b.txt", "a_b-2.txt"):
            assert page.get_by_role("button", name=f"🗑 Delete {stored}").count() == 1, stored
        assert page.get_by_text("so both files are kept").count() == 1
        assert page.locator("[data-testid='stAlertContentError']").count() == 0
        screenshot(page, "bounds-upload-names")
    finally:
        context.close()


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(5))
def test_five_learners_asking_at_once_never_lose_a_question(browser, lab_url, lab_workspace, round_):
    """Five browsers on the Answers page at once: each types a question, presses Enter and asks at once."""
    tabs = [new_page(browser) for _ in range(5)]
    try:
        for _, page in tabs:
            page.goto(f"{lab_url}/answers", wait_until="commit")
        for _, page in tabs:
            wait_idle(page)
        questions = [f"Who runs the shop, learner {i} round {round_}?" for i in range(5)]
        for (_, page), question in zip(tabs, questions):
            box = page.get_by_label("Your question", exact=True)
            box.fill(question)
            box.press("Enter")
        for _, page in tabs:
            page.get_by_role("button", name="Ask all five").click()
        for i, ((_, page), question) in enumerate(zip(tabs, questions)):
            page.wait_for_timeout(500)
            page.wait_for_selector(IDLE, timeout=300_000)
            try:
                assert page.get_by_label("Your question", exact=True).input_value() == question
                assert page.get_by_text("Type a question first").count() == 0
                page.get_by_text(f"Answers to: “{question}”").wait_for(timeout=120_000)  # answered, this question
                saved = json.loads((lab_workspace / "sessions" / sid_of(page) / "settings.json").read_text())
                assert saved["ans_question"] == question
            except (AssertionError, Exception):
                screenshot(page, f"bounds-lost-question-{round_}-{i}")
                raise
    finally:
        for context, _ in tabs:
            context.close()


def test_out_of_range_and_empty_numbers_say_so_at_the_box(browser, lab_url):
    context, page = new_page(browser)
    try:
        page.goto(f"{lab_url}/finetune")
        wait_idle(page)
        box = page.get_by_label("Training steps", exact=True)
        expect(box).not_to_have_value("", timeout=30_000)  # the preset's value is drawn a moment after the run
        in_use = box.input_value()
        field = page.locator("[data-testid='stNumberInput']").filter(has=page.get_by_label("Training steps"))
        column = page.locator("[data-testid='stColumn']").filter(has=field)

        def type_(text: str) -> None:
            box.fill(text)
            box.press("Enter")
            page.wait_for_timeout(800)
            wait_idle(page)

        type_("1e30")  # the box refuses it, keeps it and says so (an integer box read it as 1)
        assert field.get_by_role("alert").count() == 1
        assert box.input_value() == "1e30"
        type_("")  # emptied: the box shows the number in use again, not 1
        assert box.input_value() == in_use
        type_("2.5")  # a fraction in a whole-number box: said under the box, and training waits
        column.get_by_text("Training steps must be a whole number from 1 to 2,000 (got 2.5).").wait_for()
        assert box.input_value() == "2.5"  # shown as typed, not rounded to a number the Lab does not use
        assert page.get_by_text("training waits until it is").count() == 1
        screenshot(page, "bounds-number-box")
    finally:
        context.close()
