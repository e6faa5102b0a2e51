"""Sentence focus: the sentences of the retrieved chunks that best match the question, in document order."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.rag.focus import check_focus, focus

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
