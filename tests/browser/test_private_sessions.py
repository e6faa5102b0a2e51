"""Private sessions in a real Chromium: the cookie is set, a refresh reconnects, a shared link does not.

Alice uploads a file; her URL, opened by another browser (a fresh context: no cookie) or spelled
``../<id>``, ``%2e%2e%2f<id>``, ``<id>/x``, ``<id>!!``, opens a new empty session with a note, never hers.
"""

from __future__ import annotations


import pytest

from core.runtime.sessions import is_session_id
from tests.browser.conftest import screenshot, wait_idle
from tests.browser.helpers import show_uploads, sid_of, upload_files

pytestmark = pytest.mark.browser


def test_a_session_opens_only_in_the_browser_that_made_it(browser, page, lab_url, tmp_path):
    page.goto(f"{lab_url}/documents")
    wait_idle(page)
    page.wait_for_function("document.cookie.includes('ragft_browser=')")
    sid = sid_of(page)
    assert is_session_id(sid)
    secret = tmp_path / "alice-secret.txt"
    secret.write_text("The safe code is 4711. Only Alice may read this.")
    upload_files(page, [secret])
    assert page.get_by_text("alice-secret.txt").count() > 0

    page.goto(f"{lab_url}/documents?sid={sid}")  # a refresh in Alice's browser: her session, her file
    wait_idle(page)
    show_uploads(page)
    assert sid_of(page) == sid and page.get_by_text("alice-secret.txt").count() > 0

    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.set_default_timeout(90_000)
    try:
        for link in [sid, f"../{sid}", f"%2e%2e%2f{sid}", f"{sid}/x", f"{sid}!!"]:
            other.goto(f"{lab_url}/documents?sid={link}")
            wait_idle(other)
            show_uploads(other)
            assert sid_of(other) != sid, link
            notes = other.locator("[data-testid='stAlertContentWarning']").all_inner_texts()
            assert any("new, empty session of your own" in n for n in notes), (link, notes)
            assert other.get_by_text("alice-secret.txt").count() == 0
            assert other.get_by_role("button", name="🗑 Delete alice-secret.txt").count() == 0
        screenshot(other, "private-session-shared-link")
    finally:
        other.context.close()
