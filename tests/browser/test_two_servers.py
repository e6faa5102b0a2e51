"""Two Streamlit servers over one workspace folder serve the same sessions (as N replicas behind a proxy do).

One browser context (one cookie: cookies are per host, not per port) uploads on server A and finds the
file on server B under the same ``?sid=``, and the other way round.
"""

from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, start_server, wait_idle
from tests.browser.helpers import show_uploads, sid_of, upload_files

pytestmark = pytest.mark.browser


@pytest.fixture
def two_servers(tmp_path):
    workspace = tmp_path / "shared-workspace"
    workspace.mkdir()
    started = []
    try:
        for name in ("a", "b"):
            started.append(start_server(workspace, tmp_path / f"streamlit-{name}.log"))
        yield [url for _, url in started]
    finally:
        for proc, _ in started:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def both_listed(page) -> None:
    """Both uploads are in the session's list (waiting for the page's rerun after switching to the uploads)."""
    for name in ("notes-from-a.txt", "notes-from-b.txt"):
        expect(page.get_by_role("button", name=f"Delete {name}")).to_be_visible(timeout=60_000)


def test_a_learners_upload_is_on_both_servers(two_servers, page, tmp_path):
    a, b = two_servers
    page.goto(f"{a}/documents")
    wait_idle(page)
    page.wait_for_function("document.cookie.includes('ragft_browser=')")
    sid = sid_of(page)
    notes = tmp_path / "notes-from-a.txt"
    notes.write_text("Server A took this upload. The harbour opens at 6.")
    upload_files(page, [notes])
    assert page.get_by_text("notes-from-a.txt").count() > 0

    page.goto(f"{b}/documents?sid={sid}")  # the proxy sent this browser to the other replica
    wait_idle(page)
    assert sid_of(page) == sid, "server B opened another session"
    more = tmp_path / "notes-from-b.txt"
    more.write_text("Server B took this one. The ferry leaves at 7.")
    upload_files(page, [more])
    show_uploads(page)
    both_listed(page)
    screenshot(page, "two-servers-b")

    page.goto(f"{a}/documents?sid={sid}")
    wait_idle(page)
    show_uploads(page)
    assert sid_of(page) == sid
    both_listed(page)
