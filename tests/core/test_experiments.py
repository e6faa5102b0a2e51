"""Knowledge update (edit, re-index only what changed, RAG follows, LoRA stays stale), forgetting."""

from __future__ import annotations

import json

import pytest

from core.answering import Answerer, Decoding
from core.rag.corpora import QAItem
from core.rag.documents import Document
from core.errors import ConfigError, DatasetError
from core.experiments import (
    edit_fact, finetune_seconds, forgetting_check, general_items, knowledge_update,
)
from core.scoring import mentions
from tests.helpers import save_untrained_adapter, trained_adapter

@pytest.fixture(scope="session")
def trained_adapter_dir(generator, world):
    return trained_adapter(generator, world["qa"])


DOCS = [Document("a1", "a.md", "Elmby Blooms opens at 8:30 am. Its owner is Ada Vance."),
        Document("b1", "b.md", "Other shop opens at 8:30 am too.")]


@pytest.mark.parametrize("item, new, error, message", [
    (QAItem("When?", "At 8:30 am.", "8:30 am", document="a.md"), "", ConfigError, "Type the new value"),
    (QAItem("When?", "At 8:30 am.", "8:30 am", document="a.md"), "8:30 am", ConfigError, "the same as the old one"),
    (QAItem("Who?", "Bo.", "Bo Grey", document="a.md"), "Cy", DatasetError, "does not occur in a.md"),
])
def test_edit_fact_refuses_what_it_cannot_do(item, new, error, message):
    with pytest.raises(error, match=message):
        edit_fact(DOCS, item, new)


def test_edit_fact_changes_only_a_copy_of_the_named_document():
    item = QAItem("When?", "At 8:30 am.", "8:30 am", document="a.md")
    docs, name = edit_fact(DOCS, item, "9:15 am")
    assert name == "a.md" and docs[0].text == "Elmby Blooms opens at 9:15 am. Its owner is Ada Vance."
    assert docs[0].id != DOCS[0].id and docs[1] is DOCS[1]  # a new content id; the other document untouched
    assert DOCS[0].text.startswith("Elmby Blooms opens at 8:30")


def test_edit_fact_replaces_whole_values_only():
    doc = Document("d1", "shop.md", "Since 2012 the shop has sold 12 kinds of tea; 12 is a lot. Price: $12.50.")
    docs, _ = edit_fact([doc], QAItem("How many kinds?", "12 kinds.", "12", document="shop.md"), "15")
    assert docs[0].text == "Since 2012 the shop has sold 15 kinds of tea; 15 is a lot. Price: $12.50."


@pytest.mark.parametrize("answer, value, expected", [
    ("It sells 12 kinds.", "12", True), ("It sells 129 kinds.", "12", False), ("Founded in 2012.", "12", False),
    ("It costs $12.50.", "$12", False), ("It costs $12.", "$12", True), ("Opens at 9:15 AM.", "9:15 am", True),
    ("", "12", False), ("It sells 12 kinds.", " ", False),
])
def test_mentions_is_whole_value_containment(answer, value, expected):
    assert mentions(answer, value) is expected


def test_finetune_seconds_from_metrics(tmp_path, generator):
    assert finetune_seconds(save_untrained_adapter(generator, tmp_path / "ad", seconds=41.7)) == 41.7
    assert finetune_seconds(tmp_path / "missing") is None and finetune_seconds(None) is None


@pytest.mark.slow  # trains an adapter first: 8 s at load 6, 26 s at load 15 on 2 cores
def test_knowledge_update_rag_follows_lora_stays_stale(generator, retriever, world, trained_adapter_dir, model_name):
    from core.rag.documents import load_paths
    from core.finetune import load_adapter

    item = world["qa"][0]
    answerer = Answerer(generator, retriever, load_adapter(generator, trained_adapter_dir))
    # a round price, so that the check is about following the edited document, not about reading cents
    new_value = "$45.00" if item.value.startswith("$") else f"{item.value}9"
    r = knowledge_update(load_paths([world["docs"]]), item, new_value, answerer=answerer,
                         decoding=Decoding(max_new_tokens=32), adapter_dir=trained_adapter_dir)
    assert r.document == item.document and r.n_chunks == len(retriever.chunks)
    assert r.n_changed_chunks >= 1 and r.n_reembedded == r.n_changed_chunks  # only the edited chunk(s) re-embedded
    assert r.n_changed_chunks <= 2 and r.reindex_seconds > 0
    assert r.finetune_seconds and r.finetune_seconds > 0
    assert any(new_value in s.text for s in r.new_answer_rag.sources)  # the new index holds the new fact
    assert json.loads(json.dumps(r.to_dict()))["new_value"] == new_value
    if item.value in r.old_answer_rag.text:  # a model that read the old fact must read the new one
        assert r.rag_follows, r.new_answer_rag.text
    if model_name is None:  # the built-in model reads the fact, and memorises the five facts in 40 steps
        assert item.value in r.old_answer_rag.text and r.rag_follows, (r.old_answer_rag.text, r.new_answer_rag.text)
        assert r.lora_stale, r.lora_answer.text


def test_knowledge_update_remakes_the_question_bank_of_the_edited_document_only(generator, retriever, world):
    from core.questions.bank import make_bank
    from core.rag.documents import load_paths

    docs = load_paths([world["docs"]])
    bank = make_bank(docs).items
    item = world["qa"][0]
    new_value = "$45.00" if item.value.startswith("$") else f"{item.value}9"
    r = knowledge_update(docs, item, new_value, answerer=Answerer(generator, retriever),
                         decoding=Decoding(max_new_tokens=8), bank=bank)
    assert r.bank_remade == [item.document]
    assert [i for i in r.bank if i.document != item.document] == [i for i in bank if i.document != item.document]
    edited = next(d for d in edit_fact(docs, item, new_value)[0] if d.name == item.document).text
    assert any(i.value == new_value for i in r.bank) or new_value not in edited  # the bank asks for the new value
    assert all(edited[i.start:i.end] == i.value for i in r.bank if i.document == item.document)
    assert json.loads(json.dumps(r.to_dict()))["bank_remade"] == [item.document]


def test_general_questions_are_ones_the_model_knows():
    from core.world import GENERAL_FACTS

    assert [i.question for i in general_items(True)] == [f["question"] for f in GENERAL_FACTS]
    everyday = general_items(False)  # a real model is asked about our world, not the Lab's
    assert len(everyday) >= 5 and all(i.value in i.answer for i in everyday)
    assert not {i.question for i in everyday} & {f["question"] for f in GENERAL_FACTS}


def test_forgetting_check_before_and_after(generator, adapter, model_name):
    items = general_items(generator.is_builtin)[:2]
    result = forgetting_check(Answerer(generator, adapter=adapter), items, Decoding(max_new_tokens=24))
    assert len(result["rows"]) == 2 and {"before", "after", "before_correct", "after_correct"} <= set(result["rows"][0])
    assert result["before"] == result["after"]  # an untrained (zero) adapter changes nothing
    if model_name is None:
        assert result["before"] == 1.0  # the built-in model knows its world's general facts
    with pytest.raises(ConfigError, match="needs a LoRA adapter"):
        forgetting_check(Answerer(generator), general_items()[:1])



def test_training_on_the_documents_needs_a_corpus_with_a_qa_set(tmp_path):
    """The session's own uploads (no sample corpus) or a corpus without qa.jsonl: a typed error before any job."""
    from types import SimpleNamespace

    from core.experiments import document_training_job
    from core.rag.corpora import CorpusInfo

    base = SimpleNamespace(name="lab-tiny-lm", n_params=2_600_000)
    for corpus in (None, CorpusInfo("bare", tmp_path, "bare")):
        with pytest.raises(ConfigError, match="needs a sample corpus with a Q&A set"):
            document_training_job("me", base, corpus, [0])
