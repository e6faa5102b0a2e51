"""One rule for "correct": the same answer gets the same mark in every place that shows one."""

from __future__ import annotations

import pytest

from core import scoring
from core.answering import Answer
from core.rag.corpora import QAItem

# (answer, target, correct?)
CASES = [
    ("It opens at 8:30  am.", "8:30 am", True),  # two spaces
    ("It opens at 8:30 AM.", "8:30 am", True),  # case
    ("IT OPENS AT 8:30 AM", "8:30 am", True),
    ("It opens at 8:30 am, every day.", "8:30 am", True),  # punctuation after the value
    ("It opens at\n8:30\nam.", "8:30 am", True),  # line breaks
    ("It costs $12.", "$12", True),
    ("It costs $129.50.", "$12", False),  # a longer number is not the value
    ("It costs $12.50.", "$12", False),
    ("It was founded in 2012.", "12", False),
    ("Ada Vance owns it.", "Ada Vance.", True),  # punctuation around the target
    ('"Ada Vance"', "Ada Vance", True),  # quotes
    ("Ada\nVance owns it.", "ada vance", True),
    ("Adam Vance owns it.", "Ada", False),  # inside a longer word
    ("", "Ada Vance", False),
    ("Ada Vance owns it.", "", False),  # an empty target never matches
]
IDS = [f"{a!r}~{t!r}" for a, t, _ in CASES]


def _answer(text: str) -> Answer:
    return Answer("rag", text, [], 1, 1, 0.0, {})


def marks(answer: str, target: str) -> dict[str, bool]:
    """The mark each place of the Lab gives ``answer`` for ``target``."""
    from core.evaluation import score_answer
    from core.experiments import UpdateResult
    from core.finetune.evaluate import is_correct as recalled
    from ui.answer_views import verdict
    from ui.finetune_views import probe_table

    item = QAItem("Q?", "reference", target)
    update = UpdateResult("Q?", "old", target, "d.md", _answer(""), _answer(answer), None, None, 0.0, 0, 0, 1, None)
    probe = probe_table([item], ["-"], [answer], recalled).iloc[0]
    return {
        "rule": scoring.is_correct(answer, target),
        "facts recalled (training curve)": recalled(answer, item),
        "batch accuracy / CLI eval": score_answer(_answer(answer), item)["correct"],
        "answer verdict (Answers page)": verdict(_answer(answer), item).startswith("✅"),
        "knowledge update (rag follows)": update.rag_follows,
        "before vs after (Fine-tuning page)": probe["adapter ✓"] == "✅",
    }


@pytest.mark.parametrize("answer, target, expected", CASES, ids=IDS)
def test_every_place_gives_the_same_mark(answer, target, expected):
    assert marks(answer, target) == {k: expected for k in marks(answer, target)}


def test_the_rule_is_one_function_wherever_it_is_imported():
    import core.llm.confidence
    import core.llm.editing
    import core.evaluation
    import core.experiments
    import core.finetune.evaluate
    import recipes.evaluate
    import core.rag.retrieval_metrics

    for module in (core.evaluation, core.finetune.evaluate, core.experiments, recipes.evaluate, core.llm.editing,
                   core.llm.confidence):
        assert module.is_correct is scoring.is_correct, module.__name__
    assert core.rag.retrieval_metrics.is_relevant is scoring.is_relevant


def test_training_curve_scores_generated_answers_by_the_rule(monkeypatch):
    """``scored_accuracy`` (facts recalled during training) marks the generated text with the same rule."""
    import core.finetune.evaluate as fe
    from core.llm.loading import load_generator

    rows = [(QAItem(f"Q{i}?", f"It is {t}.", t), f"Q{i}?", None) for i, (_, t, _) in enumerate(CASES) if t]
    answers = [a for a, t, _ in CASES if t]
    monkeypatch.setattr(fe, "greedy_answers", lambda model, tok, messages, n: answers)  # the model's output, fixed
    got = fe.scored_accuracy(None, load_generator().tokenizer, {"facts_recalled": rows})
    assert got["facts_recalled"] == round(sum(e for _, t, e in CASES if t) / len(rows), 4)


@pytest.mark.parametrize("text, document, expected", [
    ("The shop opens at 8:30  am daily.", "a.md", True),
    ("The shop opens at 8:30 am daily.", "b.md", False),  # another document
    ("Tickets cost $129.50.", "a.md", False),  # not the value
])
def test_chunk_relevance_uses_the_same_value_test(text, document, expected):
    from core.rag.chunking import Chunk

    chunk = Chunk(doc_id="x", doc_name=document, index=0, start=0, end=len(text), text=text, n_tokens=5)
    value = "$12" if "$" in text else "8:30 am"
    assert scoring.is_relevant(chunk, QAItem("Q?", "A.", value, document="a.md")) is expected
