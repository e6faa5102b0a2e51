"""Extractive (copy) decoding: the answer is a verbatim span of the passages, chosen by the model."""

from __future__ import annotations

import pytest

READER_NAME = "lab-english-reader"
from core.llm.copying import CopyConstraint, constraint_for
from core.llm.prompting import build_messages
from core.rag.focus import split_sentences

PASSAGES = ["The repair cafe meets in the old fire station on Mondays. Entry is free, and coffee costs 2 euros a cup.",
            "Volunteers fix lamps, toasters and bicycles. Bring your own spare parts if you have them."]


@pytest.fixture(scope="module")
def reader():
    from core.llm.loading import load_generator

    return load_generator(READER_NAME)


def test_a_copy_continues_only_where_the_passage_does():
    c = CopyConstraint([10, 11, 12, 10, 13, 14], starts=[0, 3, 5], ends={2}, variants={10: 20})
    assert c.allowed() == {10, 14, 20}  # word starts, and "10" without its space; never end-of-text first
    c.advance(20)  # the space-less variant of 10 matches both copies of it
    assert c.allowed() == {11, 13, 2}
    c.advance(13)
    assert c.allowed() == {14, 2}
    c.advance(14)
    assert c.allowed() == {2}  # the passage ended: only end-of-text is left


def test_the_constraint_covers_the_passages_and_nothing_else(reader):
    from core.llm.generation import encode, render_prompt

    messages = build_messages("How much is coffee?", PASSAGES)
    ids = encode(reader, messages)
    c = constraint_for(reader.tokenizer, render_prompt(reader, messages), ids, PASSAGES, {2}, unit="word")
    copied = reader.tokenizer.decode([ids[p] for p in sorted(c.source)])
    assert "coffee costs 2 euros a cup" in copied and "spare parts" in copied
    assert "How much is coffee" not in copied and "Context" not in copied  # the question and the header are not passages
    starts = [reader.tokenizer.decode(ids[p:p + 6]).strip() for p in c.live]  # a word is up to ~5 tokens here
    for word in ("The repair", "Entry", "coffee", "Volunteers", "a cup"):
        assert any(text.startswith(word) for text in starts), (word, starts)
    assert not any(text.startswith("pair") for text in starts)  # never inside a word


def test_sentence_copies_start_and_end_at_sentence_bounds(reader):
    from core.llm.generation import encode, render_prompt

    messages = build_messages("How much is coffee?", PASSAGES)
    ids = encode(reader, messages)
    c = constraint_for(reader.tokenizer, render_prompt(reader, messages), ids, PASSAGES, {2}, unit="sentence")
    starts = sorted(reader.tokenizer.decode(ids[p:p + 6]).strip() for p in c.live)
    assert len(starts) == 4 and [s.split()[0] for s in starts] == ["Bring", "Entry", "The", "Volunteers"]
    before_stop = {reader.tokenizer.decode(ids[p - 1:p]) for p in c.stops}
    assert before_stop == {"."}  # a copy may end only after a sentence's full stop


def test_a_copied_answer_is_a_span_of_a_passage(reader):
    from core.llm.generation import generate

    messages = build_messages("How much does coffee cost at the repair cafe?", PASSAGES)
    out = generate(reader, messages, copy_from=PASSAGES)
    assert out.settings["copy"] and out.text and any(out.text in p for p in PASSAGES)
    sentences = [s for p in PASSAGES for s in split_sentences(p)]
    assert any(out.text.startswith(s) for s in sentences) and out.text.endswith(".")  # whole sentences (the default unit)
    words = generate(reader, messages, copy_from=PASSAGES, copy_unit="word")
    assert words.text and any(words.text in p for p in PASSAGES)
    free = generate(reader, messages)
    assert not free.settings["copy"]


def test_passages_missing_from_the_prompt_leave_decoding_free(reader):
    from core.llm.generation import generate

    out = generate(reader, build_messages("Who fixes lamps?", None), copy_from=["text that is not in the prompt"],
                   max_new_tokens=8)
    assert out.settings["copy"] is False
