"""Browser end-to-end fixtures: a real ``streamlit run`` server and Debian's headless Chromium via Playwright.

Playwright's own browser download fails in this environment, so the browser is
``/usr/bin/chromium`` (``apt-get install chromium``). Locally the tests skip
without it; CI sets ``RAGFT_REQUIRE_BROWSER=1`` so a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ROOT

CHROMIUM = os.environ.get("RAGFT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_collection_modifyitems(items):
    for item in items:  # each starts or drives a real server and browser: out of the quick `-m "not slow"` loop
        if "browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("RAGFT_REQUIRE_BROWSER"):
        raise pytest.UsageError(f"RAGFT_REQUIRE_BROWSER is set but {CHROMIUM} is missing: apt-get install chromium")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install chromium)")
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def lab_workspace(tmp_path_factory) -> Path:
    """The browser server's workspace folder (tests read runs' metrics.json from it)."""
    return tmp_path_factory.mktemp("browser-workspace")


def start_server(workspace: Path, log_path: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """``streamlit run app.py`` as the README says (the project's config decides the file watcher), on a
    loopback port; returns once /_stcore/health is ok."""
    port = port or _free_port()
    env = {**os.environ, "RAGFT_WORKSPACE": str(workspace), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log = open(log_path, "a")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()  # the child keeps its own handle
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the Streamlit server did not become healthy in 120 s")


@pytest.fixture(scope="session")
def lab_url(tmp_path_factory, lab_workspace):
    """A Lab server on a free loopback port with its own workspace; stopped after the session."""
    proc, url = start_server(lab_workspace, tmp_path_factory.mktemp("server") / "streamlit.log")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield page
    context.close()


def wait_idle(page, timeout_ms: int = 180_000) -> None:
    """Wait until the script has finished running (Streamlit marks the app root)."""
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def _drawn(page, timeout_ms: int = 60_000) -> None:
    """Wait until no grey placeholder (skeleton) is left: a shot of placeholders shows nothing of the page."""
    try:
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout_ms)
    except Exception:  # noqa: BLE001 (a page that keeps a placeholder still gets its shot)
        pass


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Streamlit scrolls inside its main section, so a full-page shot stops at the window's edge:
    # grow the window to the content's height for the shot, then put it back.
    size = page.viewport_size
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        '[data-testid="stMain"], section.main, [data-testid="stAppViewContainer"]')].map(e => e.scrollHeight), 0)""")
    if size and height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 5000)})
        page.wait_for_timeout(600)
    _drawn(page)
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        if size:
            page.set_viewport_size(size)
    return path


def pytest_sessionfinish(session, exitstatus):
    docs = ROOT / "docs" / "screenshots"
    if os.environ.get("RAGFT_UPDATE_SCREENSHOTS") and ARTIFACTS.exists():
        docs.mkdir(parents=True, exist_ok=True)
        for png in ARTIFACTS.glob("*.png"):
            shutil.copy2(png, docs / png.name)
