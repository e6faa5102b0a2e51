"""The question bank and the class quiz in the app, through the entrypoint with AppTest."""

from __future__ import annotations

import pytest

from tests.helpers import ROOT, open_page

DOCS = ROOT / "sample_data" / "heldout_english" / "docs"
UPLOADS = {p.name: p.read_bytes() for p in sorted(DOCS.iterdir())}


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _make_bank(at):
    at.button(key="doc_qb_make").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
@pytest.mark.parametrize("page, prefix", [("pages/7_experiments.py", "exp"), ("pages/5_finetune.py", "ft"),
                                          ("pages/11_quiz.py", "quiz")])
def test_pages_without_a_qa_set_offer_to_make_questions(page, prefix):
    at = open_page(page, uploads=UPLOADS)
    assert at.button(key=f"{prefix}_qb_make").label == "Make questions from these documents"


@pytest.mark.slow
def test_documents_page_makes_a_bank_that_serves_as_the_qa_set():
    at = _make_bank(open_page("pages/1_documents.py", uploads=UPLOADS))
    assert int(_metric(at, "Questions")) >= 20 and _metric(at, "Repeated questions") == "0%"
    assert int(_metric(at, "Held-out wordings")) >= 1
    assert any(b.label == "Download the bank (JSONL)" for b in at.main.get("download_button"))
    assert "Allen-Zhu" in " ".join(m.value for m in at.markdown)
    at.button(key="doc_qb_save").click()  # unedited rows save as they are
    at.run()
    at.switch_page("pages/5_finetune.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "held-out wordings of the question bank are left out of training" in captions  # the bank is the Q&A set


@pytest.mark.slow
def test_quiz_hides_answers_until_reveal_and_scores_predictions():
    at = _make_bank(open_page("pages/1_documents.py", uploads=UPLOADS))
    at.switch_page("pages/11_quiz.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.number_input(key="quiz_n").set_value(2)
    at.run()
    assert not at.main.get("dataframe")  # nothing revealed yet
    pills = [p for p in at.main.get("button_group") if p.key and p.key.startswith("quiz_pred_")]
    assert len(pills) == 2
    pills[0].set_value(["rag"])
    at.run()
    at.button(key="quiz_reveal").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    score = _metric(at, "Your predictions")
    assert score.endswith("%)") and " of 4 right" in score
    assert len(at.main.get("dataframe")) == 2
