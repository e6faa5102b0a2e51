"""Every page opens in a real browser with no error box and no exception; a screenshot of each is saved."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, wait_idle

PAGES = ["", "documents", "embeddings", "retrieval", "prompt", "finetune", "answers", "experiments", "decision", "model"]


@pytest.mark.parametrize("path", PAGES)
def test_page_opens_without_errors(page, lab_url, path):
    page.goto(f"{lab_url}/{path}")
    wait_idle(page)
    screenshot(page, f"{path or 'home'}")
    exceptions = page.locator("[data-testid='stException']")
    assert exceptions.count() == 0, exceptions.all_inner_texts()
    assert page.locator("h1").count() >= 1
    errors = page.locator("[data-testid='stAlertContentError']")
    assert errors.count() == 0, errors.all_inner_texts()
