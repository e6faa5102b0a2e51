"""The question bank: exact offsets, kinds, repeats, splits and bad input, on real held-out documents."""

from __future__ import annotations

import json

import pytest

from core.errors import ConfigError, LabError
from core.questions import BankConfig, NoSentences, make_bank
from core.questions.bank import has_sentence
from core.questions.phrasing import wordings
from core.questions.quality import bank_stats, read_bank, repeat_rate, write_bank
from core.rag.spans import find_spans
from core.rag.documents import Document, load_paths
from tests.helpers import ROOT, in_process

@pytest.fixture(autouse=True)
def _session_embedder(monkeypatch, embedder):
    """The CLI's chunking reuses the session's default embedder instead of loading it again per call."""
    import core.rag.embedding

    monkeypatch.setattr(core.rag.embedding, "load_embedder", lambda name=None, backend=None, export_root=None: embedder)


SETS = [ROOT / "sample_data" / "heldout_english" / "docs", ROOT / "sample_data" / "heldout_questions" / "docs"]


@pytest.fixture(scope="module", params=SETS, ids=lambda p: p.parent.name)
def corpus(request):
    docs = load_paths([request.param])
    return docs, make_bank(docs)


def test_every_value_sits_at_its_offsets(corpus):
    docs, bank = corpus
    texts = {d.name: d.text for d in docs}
    assert bank.items and all(texts[i.document][i.start:i.end] == i.value for i in bank.items)


def test_bank_meets_its_size_and_repeat_bars(corpus):
    _, bank = corpus
    stats = bank_stats(bank.items)
    assert stats["items"] >= 20 and stats["repeat_rate"] <= 0.10
    assert len(stats["by_document"]) == 2 and len(stats["by_kind"]) >= 5


def test_no_question_copies_its_value_and_answers_hold_it(corpus):
    _, bank = corpus
    for item in bank.items:
        assert item.value.lower() not in item.question.lower(), item
        assert item.value in item.answer, item


def test_heldout_wordings_never_appear_in_training(corpus):
    _, bank = corpus
    train = {q.lower() for i in bank.train() for q in (i.question, *i.paraphrases)}
    held = [i for i in bank.items if i.split == "heldout"]
    assert held and all(i.question.lower() not in train for i in held)
    assert all(i.paraphrases for i in bank.train()[:5])  # varied phrasings for training


@pytest.mark.parametrize("sentence, value, kind", [
    ("A single ticket costs 4 euros.", "4 euros", "how much"),
    ("The crossing takes 25 minutes in calm weather.", "25 minutes", "how long"),
    ("It was opened in 1931 by the astronomer Rupert Oakes.", "1931", "when"),
    ("It was opened in 1931 by the astronomer Rupert Oakes.", "Rupert Oakes", "who"),
    ("The boat carries up to 60 passengers.", "60", "how many"),
    ("The first boat leaves at 6:40 from the pier.", "6:40", "when"),
    ("It was polished by hand in Glasgow last year.", "Glasgow", "where"),
])
def test_span_kinds(sentence, value, kind):
    assert (kind, value) in [(s.kind, sentence[s.start:s.end]) for s in find_spans(sentence)]


@pytest.mark.parametrize("sentence, value, question", [
    ("A single ticket costs 4 euros.", "4 euros", "How much does a single ticket cost?"),
    ("The service was started in 1974 by a boat builder named Ines Varga.", "Ines Varga",
     "Who started the service in 1974?"),
    ("In 1999 a storm damaged the dome.", "1999", "In which year did a storm damage the dome?"),
])
def test_cloze_to_question(sentence, value, question):
    span = next(s for s in find_spans(sentence) if sentence[s.start:s.end] == value)
    assert wordings(sentence, span, "")[0] == question


def test_identical_questions_are_dropped_as_ambiguous():
    text = "A ticket costs 4 euros. A ticket costs 5 euros. The crossing takes 25 minutes."
    bank = make_bank([Document("d", "d.md", text, {})])
    assert [i.value for i in bank.items if i.split == "train"] == ["25 minutes"]
    assert {r.rule.split(":")[0] for r in bank.rejected} == {"ambiguous"}
    assert repeat_rate([i.question for i in bank.items]) == 0


def test_per_doc_caps_facts_and_spreads_kinds(corpus):
    docs, _ = corpus
    bank = make_bank(docs, BankConfig(per_doc=5, heldout_share=0))
    stats = bank_stats(bank.items)
    assert all(n <= 5 for n in stats["by_document"].values()) and len(stats["by_kind"]) >= 4


def test_save_and_load_round_trip(corpus, tmp_path):
    _, bank = corpus
    write_bank(bank.items, tmp_path / "bank.jsonl")
    assert read_bank(tmp_path / "bank.jsonl") == bank.items


@pytest.mark.parametrize("kwargs, message", [
    ({"per_doc": 0}, "per-doc must be from 1 to 200 questions (got 0)"),
    ({"paraphrases": -1}, "paraphrases must be from 0 to 10 (got -1)"),
    ({"heldout_share": 2.0}, "heldout share must be from 0 to 1 (got 2.0)"),
])
def test_config_messages(kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BankConfig(**kwargs)


def test_document_without_sentence_is_refused():
    assert not has_sentence("# Heading\n\n12 34 56")
    with pytest.raises(NoSentences, match="has no sentence"):
        make_bank([Document("d", "n.md", "# Heading\n\n12 34 56", {})])
    with pytest.raises(NoSentences, match="no question could be made"):
        make_bank([Document("d", "n.md", "Hello there my good friend.", {})])


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"), (b"\x00\x01\x02\xff\xfe binary", "binary"), (b"12 34\n-- --\n", "no sentence"),
])
def test_cli_bad_input_exits_2_with_one_line(capsys, tmp_path, content, message):
    path = tmp_path / "doc.txt"
    path.write_bytes(content)
    out = in_process(capsys, "questions", "--docs", str(path), "--out", str(tmp_path / "b.jsonl"), check=False)
    assert out.returncode == 2 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["--per-doc", "0"], "per-doc must be from 1"), (["--docs-missing"], "no documents"),
])
def test_cli_bad_flags_exit_2(capsys, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    docs = [str(tmp_path / "empty")] if args == ["--docs-missing"] else [str(SETS[0])]
    extra = [] if args == ["--docs-missing"] else args
    out = in_process(capsys, "questions", "--docs", *docs, "--out", str(tmp_path / "b.jsonl"), *extra, check=False)
    assert out.returncode == 2 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_cli_json_shape_and_file(capsys, tmp_path):
    out = in_process(capsys, "questions", "--docs", str(SETS[0]), "--out", str(tmp_path / "b.jsonl"), "--json")
    summary = json.loads(out.stdout)
    assert {"out", "items", "facts", "train", "heldout", "repeat_rate", "by_document", "by_kind", "rejected"} <= set(summary)
    rows = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert len(rows) == summary["items"] >= 20
    assert {"question", "answer", "value", "document", "start", "end", "chunk", "kind", "split", "paraphrases"} <= set(rows[0])
    assert all(isinstance(r["chunk"], int) for r in rows)
    assert all({"question", "value", "document", "rule"} == set(r) for r in summary["rejected"])


def test_a_lab_error_is_what_bad_input_raises():
    assert issubclass(NoSentences, LabError)


def test_an_edited_value_is_found_again_in_its_document(corpus):
    import dataclasses

    from core.questions.bank import relocate

    docs, bank = corpus
    item, text = bank.items[0], next(d.text for d in docs if d.name == bank.items[0].document)
    other = next(i for i in bank.items if i.document == item.document and i.value != item.value)
    moved = relocate(dataclasses.replace(item, value=other.value), text)
    assert text[moved.start:moved.end] == other.value
    gone = relocate(dataclasses.replace(item, value="not in the document at all"), text)
    assert (gone.start, gone.end, gone.chunk) == (-1, -1, None)


def test_bank_as_qa_set_keeps_heldout_rows_out_of_training(corpus):
    from core.questions.bank import to_qa_items, training_items

    _, bank = corpus
    qa = to_qa_items(bank.items)
    assert [q.target for q in qa] == [i.value for i in bank.items]
    assert len(training_items(qa)) == len(bank.train()) < len(qa)


@pytest.mark.parametrize("predicted, outcomes, right", [
    ({0: ["rag"]}, {0: {"base": False, "rag": True}}, 2),
    ({0: []}, {0: {"base": False, "rag": True}}, 1),
    ({0: ["base", "rag"]}, {0: {"base": False, "rag": False}}, 0),
])
def test_quiz_scores_each_prediction(predicted, outcomes, right):
    from core.questions.quiz import quiz_score

    assert quiz_score(predicted, outcomes)["right"] == right


def test_refresh_remakes_only_the_changed_document(corpus):
    from core.questions.bank import refresh_bank

    docs, bank = corpus
    item = next(i for i in bank.items if i.kind == "how much" or i.kind == "when")
    edited = [Document(d.id, d.name, d.text[:item.start] + "1234" + d.text[item.end:] if d.name == item.document
                       else d.text, d.metadata) for d in docs]
    items, remade = refresh_bank(bank.items, edited)
    assert remade == [item.document]
    untouched = [i for i in bank.items if i.document != item.document]
    assert [i for i in items if i.document != item.document] == untouched
    texts = {d.name: d.text for d in edited}
    assert all(texts[i.document][i.start:i.end] == i.value for i in items)
