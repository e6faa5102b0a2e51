"""A newcomer's own document, offline: upload it, train LoRA on its facts, compare the answers.

With an upload (plain English, not a 🧪 world corpus) the one rule picks the built-in English model
(SmolLM2-135M-Instruct, fetched into the model cache on first need) and says so; RAG reads the uploaded handbook
(sentence focus keeps the two best-matching sentences, copy decoding copies the one that answers) and the LoRA
adapter recalls the trained fact closed-book.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, wait_idle
from tests.browser.helpers import ask, goto, no_errors, run_line, set_number, upload_files

SID = "readerflow"
HANDBOOK = """# Riverside Tool Library: member guide

Members can borrow up to four tools at a time, for one week each. A yearly membership costs 35 euros.

The library is open on Wednesday evenings and on Saturday mornings. Late returns cost 2 euros per day.

Power tools need a short safety induction first, which is run by our volunteer Agnes Moreau.
"""
FACTS = [
    {"question": "How much does a yearly membership at the tool library cost?", "answer": "It costs 35 euros.",
     "value": "35 euros"},
    {"question": "Who runs the safety induction for power tools?", "answer": "Agnes Moreau runs it.",
     "value": "Agnes Moreau"},
    {"question": "How much do late returns cost?", "answer": "Late returns cost 2 euros per day.", "value": "2 euros"},
]


def test_an_upload_is_read_and_learned_by_the_english_model(page, lab_url, tmp_path):
    doc = tmp_path / "tool-library.md"
    doc.write_text(HANDBOOK)
    qa = tmp_path / "facts.jsonl"
    qa.write_text("".join(json.dumps(row) + "\n" for row in FACTS))
    goto(page, lab_url, "documents", sid=SID)
    upload_files(page, [doc])
    no_errors(page)

    goto(page, lab_url, "finetune", sid=SID)
    assert page.get_by_text("SmolLM2-135M-Instruct) reads this corpus").count() >= 1
    page.get_by_text("Upload a CSV / JSONL").click()
    page.wait_for_timeout(300)
    wait_idle(page)
    with page.expect_file_chooser() as chooser:
        page.locator("[data-testid='stFileUploaderDropzone']").last.locator("button").first.click()
    chooser.value.set_files(str(qa))
    page.wait_for_timeout(1500)
    wait_idle(page)
    set_number(page, "Evaluate every (steps)", 20)
    start_button = page.get_by_role("button", name="▶ Start training")
    expect(start_button).to_be_enabled(timeout=180_000)  # the English model's page takes longer to settle
    start_button.click()
    run_line(page).wait_for(timeout=60_000)
    run = run_line(page).locator("code").inner_text()
    page.locator("[data-testid='stMarkdown']").filter(has_text=run).filter(has_text="done").first.wait_for(
        timeout=900_000)
    no_errors(page)
    screenshot(page, "reader-finetune")

    goto(page, lab_url, "answers", sid=SID)
    assert page.get_by_text("SmolLM2-135M-Instruct) reads this corpus").count() >= 1
    ask(page, "Your question", FACTS[0]["question"])
    page.get_by_role("button", name="Ask all five").click()
    page.wait_for_timeout(1000)
    wait_idle(page)
    no_errors(page)
    answers = {title: _answer_text(page, title) for title in ("RAG", "LoRA")}
    assert "tool-library.md" in answers["RAG"], answers  # the uploaded handbook is RAG's retrieved source
    assert "35 euros" in answers["RAG"].split("tool-library.md")[0], answers  # read from it, in the answer itself
    assert "Sentence focus: the 2 sentence(s) the model read" in answers["RAG"], answers
    assert "35 euros" in answers["LoRA"], answers  # recalled from the adapter's weights, no document
    screenshot(page, "reader-answers")


def _answer_text(page, title: str) -> str:
    """The text of the answer card under the column headed ``title``."""
    column = page.locator("[data-testid='stColumn']").filter(
        has=page.get_by_role("heading", name=title, exact=True)).first
    return re.sub(r"\s+", " ", column.inner_text())
