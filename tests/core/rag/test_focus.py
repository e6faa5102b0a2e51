"""Sentence focus: the sentences of the retrieved chunks that best match the question, in document order."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.rag.focus import asked_kinds, check_focus, focus

CHUNKS = ["# Opening hours\n\nThe workshop opens at 18:00 on Tuesdays. Coffee costs 2 euros a cup. "
          "Children under 12 must come with an adult.",
          "A yearly membership costs 35 euros. Students pay 15 euros for a year."]


def test_the_matching_sentences_are_kept_in_document_order(embedder):
    out = focus("How much does a yearly membership cost for students?", CHUNKS, embedder, 2)
    kept = [r["text"] for r in out.sentences if r["kept"]]
    assert kept == ["A yearly membership costs 35 euros.", "Students pay 15 euros for a year."]
    assert out.text == " ".join(kept) and out.n_kept == 2
    best = min(out.sentences, key=lambda r: r["rank"])
    assert best["kept"] and best["chunk"] == 2 and best["bm25"] > 0


def test_headings_are_not_candidates_and_zero_keeps_everything(embedder):
    out = focus("When does the workshop open?", CHUNKS, embedder, 0)
    assert all(r["kept"] for r in out.sentences) and len(out.sentences) == 5
    assert not any(r["text"].startswith("#") for r in out.sentences)


def test_one_sentence_answers_a_question_about_one_fact(embedder):
    out = focus("What does a cup of coffee cost?", CHUNKS, embedder, 1)
    assert out.text == "Coffee costs 2 euros a cup."


@pytest.mark.parametrize("bad", [-1, 21, 1.5, True, "2"])
def test_a_bad_focus_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="focus"):
        check_focus(bad)


SHOP = ["Pinecrest Cycle Works is a family-run bicycle repair shop on Alder Street. The shop was founded in 1998 by "
        "Marta Lindqvist, a former courier. Pinecrest Cycle Works also rents out cargo bikes by the day. The workshop "
        "repairs about forty bikes a week."]


@pytest.mark.parametrize("question, value", [("Who founded Pinecrest Cycle Works?", "Marta Lindqvist"),
                                             ("When was Pinecrest Cycle Works founded?", "1998"),
                                             ("How many bikes does Pinecrest Cycle Works repair each week?", "forty")])
def test_the_sentence_that_holds_the_kind_of_answer_asked_for_is_kept(embedder, question, value):
    # by cosine and BM25 alone the two sentences that repeat the shop's name win (measured: the value was cut);
    # the answer type lifts the one that names a person, a year or a count the question does not already name
    out = focus(question, SHOP, embedder, 2)
    assert value in out.text and "cargo" not in out.text
    assert any(r["typed"] and value in r["text"] for r in out.sentences)


@pytest.mark.parametrize("question, kinds", [
    ("Who runs Petal & Stem?", {"who"}), ("Until what time are you open on Thursdays?", {"when"}),
    ("How much is a fortnightly subscription?", {"how much"}), ("How long does the crossing take?", {"how long"}),
    ("What is the name of the ferry's boat?", set())])
def test_a_questions_wording_names_the_kind_of_answer(question, kinds):
    assert asked_kinds(question) == kinds
