"""Questions from a newcomer's own document: upload it, make its question bank, edit a question, train on
the bank, run the class quiz, and find the quiz score in the session report."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import screenshot, wait_idle
from tests.browser.helpers import goto, no_errors, real_sid, run_line, set_number, upload_files

SID = "questionflow"
DOC = """# Riverside Tool Library

The Riverside Tool Library lends tools to its members. It was founded in 2009 by a carpenter named Agnes Moreau.

A yearly membership costs 35 euros. Late returns cost 2 euros per day. Members can borrow tools for one week.

The library opens at 18:30 on Wednesday evenings. Power tools need a safety induction that takes 45 minutes.
"""
EDITED = "How much do members pay for a year of the tool library?"
pytestmark = pytest.mark.slow


def test_bank_edit_train_quiz_and_report(page, lab_url, lab_workspace, tmp_path):
    doc = tmp_path / "tool-library.md"
    doc.write_text(DOC)
    goto(page, lab_url, "documents", sid=SID)
    upload_files(page, [doc])
    page.get_by_role("button", name="Make questions from these documents").click()
    page.get_by_text("Repeated questions").wait_for(timeout=180_000)
    wait_idle(page)
    no_errors(page)
    bank = lab_workspace / "sessions" / real_sid(SID) / "questions" / "uploads.jsonl"
    rows = [json.loads(line) for line in bank.read_text().splitlines()]
    assert len(rows) >= 5 and all(DOC[r["start"]:r["end"]] == r["value"] for r in rows)

    for _ in range(3):  # a canvas grid: an edit that lands while the page still moves is lost
        _edit_first_question(page, rows[0]["question"], EDITED)
        page.get_by_role("button", name="Save the edited bank").click()
        page.get_by_text(re.compile(r"^Saved \d+ questions")).wait_for(timeout=60_000)
        wait_idle(page)
        rows = [json.loads(line) for line in bank.read_text().splitlines()]
        if rows[0]["question"] == EDITED:
            break
    assert rows[0]["question"] == EDITED, rows[0]
    screenshot(page, "question-bank")

    goto(page, lab_url, "finetune", sid=SID)
    set_number(page, "Training steps", 6)
    set_number(page, "Evaluate every (steps)", 6)
    page.get_by_role("button", name="▶ Start training").click(timeout=240_000)
    run_line(page).wait_for(timeout=60_000)
    run = run_line(page).locator("code").inner_text()
    page.locator("[data-testid='stMarkdown']").filter(has_text=run).filter(has_text="done").first.wait_for(
        timeout=900_000)
    no_errors(page)

    goto(page, lab_url, "quiz", sid=SID)
    set_number(page, "Questions per round", 2)
    page.locator("[data-testid='stButtonGroup']").first.get_by_role("button", name="RAG", exact=True).click()
    page.wait_for_timeout(300)
    wait_idle(page)
    page.get_by_role("button", name="Reveal the answers").click()
    page.get_by_text("Your predictions").wait_for(timeout=600_000)
    wait_idle(page)
    no_errors(page)
    score = page.locator("[data-testid='stMetricValue']").last.inner_text()
    assert re.fullmatch(r"\d+ of 8 right \(\d+%\)", score), score  # 2 questions × 4 systems (an adapter exists)
    screenshot(page, "class-quiz")

    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Session report")).click()
    path = tmp_path / "report.html"
    download.value.save_as(path)
    text = path.read_text()
    right_of = score.split(" right")[0]  # "5 of 8"
    assert "Class quiz" in text and f"Quiz score: {right_of} predictions right" in text


def _edit_first_question(page, was: str, text: str) -> None:
    """Type over the first row's question in the bank's table (a canvas grid, where pixels depend on fonts).

    A click selects some cell of the first row; the arrow keys then move the selection to the cell that holds
    ``was``, found through the grid's accessible table (its cells are ``td#glide-cell-<column>-<row>``, the
    selected one ``aria-selected``); Enter opens the cell editor (a ``textarea.gdg-input``). Under load the
    click can land while the grid is still drawn, so it is repeated until the editor is open on ``was``. The
    new text is filled in until the editor holds it (keys typed while it mounts are lost), and Enter commits it.
    """
    grid = page.locator("[data-testid='stElementContainer']:has-text('Edit the bank') ~ "
                        "[data-testid='stElementContainer'] [data-testid='stDataFrame']").first
    editor = page.locator("textarea.gdg-input").first
    target = grid.locator("td[id^='glide-cell-']").filter(has_text=was).first
    seen: list[str] = []  # what each try found, for the failure message
    for _ in range(8):
        wait_idle(page)
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + 35 + 17)  # a text cell of row 1, under the header
        page.wait_for_timeout(300)
        selected = grid.locator("td[aria-selected='true']")
        if not selected.count() or not target.count():
            seen.append(f"selected {selected.count()}, cells holding the question {target.count()}")
            continue
        column = int(target.get_attribute("id").split("-")[2])
        for _ in range(16):
            at = [int(n) for n in selected.first.get_attribute("id").split("-")[2:4]]
            if at == [column, 0]:
                break
            page.keyboard.press("ArrowUp" if at[1] > 0 else "ArrowLeft" if at[0] > column else "ArrowRight")
            page.wait_for_timeout(100)
        page.keyboard.press("Enter")
        try:
            editor.wait_for(state="visible", timeout=3_000)
        except Exception:  # noqa: BLE001 (not open yet: the grid was still being drawn)
            seen.append(f"no editor after Enter on {selected.first.get_attribute('id')}")
            continue
        if editor.input_value() == was:
            break
        seen.append(f"editor opened on {editor.input_value()!r}")
        page.keyboard.press("Escape")
    if not (editor.is_visible() and editor.input_value() == was):
        screenshot(page, "question-bank-editor-not-open")
        value = editor.input_value() if editor.is_visible() else None
        raise AssertionError(f"the question cell's editor did not open on {was!r} (editor holds {value!r}): {seen}")
    for _ in range(10):  # the editor sets its own value once mounted: text typed before that is lost
        page.wait_for_timeout(200)
        editor.fill(text)
        page.wait_for_timeout(200)
        if editor.input_value() == text:
            break
    assert editor.input_value() == text, editor.input_value()
    page.keyboard.press("Enter")
    taken = grid.locator("td[id^='glide-cell-']").filter(has_text=text).first
    try:  # the grid holds the new text (if not, the caller sees the bank unchanged and edits again)
        taken.wait_for(state="attached", timeout=30_000)
    except Exception:  # noqa: BLE001
        pass
    page.wait_for_timeout(800)
    wait_idle(page)
