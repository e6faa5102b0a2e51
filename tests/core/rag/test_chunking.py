"""Chunking: offsets point into the text, sizes are respected, configs are validated."""

from __future__ import annotations

import pytest

from core.rag.chunking import STRATEGIES, ChunkConfig, chunk_document, pack_spans, sentence_spans, token_windows
from core.rag.documents import Document
from core.errors import ConfigError

TEXT = """# Petal care

Cut the stems at an angle before you put them in water. Change the water every two days.
Keep bouquets away from fruit bowls, because ripening fruit releases ethylene.

## Delivery

We deliver within the city from 9am to 5pm. Orders placed before 11am arrive the same day.
Deliveries outside the city cost $12.50 and arrive the next day.

## Returns

If your flowers wilt within three days, send us a photo and we will replace them free of charge.
""" * 3

DOC = Document(id="d1", name="care.md", text=TEXT)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("size, overlap, unit", [(40, 8, "tokens"), (200, 40, "characters")])
def test_offsets_and_sizes(embedder, strategy, size, overlap, unit):
    config = ChunkConfig(strategy=strategy, size=size, overlap=overlap, unit=unit)
    chunks = chunk_document(DOC, config, embedder.tokens, embed=embedder.encode)
    assert chunks, "no chunks"
    for i, c in enumerate(chunks):
        assert TEXT[c.start : c.end] == c.text
        assert c.doc_id == "d1" and c.doc_name == "care.md" and c.index == i
        assert c.n_tokens == embedder.tokens.count([c.text])[0]
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)
    # Together the chunks cover every non-blank character of the document.
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(TEXT) if not ch.isspace())
    limit = config.size if config.unit == "tokens" else None
    if strategy in ("tokens", "recursive", "markdown", "sentences") and limit:
        assert max(c.n_tokens for c in chunks) <= limit + 2


def test_fixed_characters_overlap_exactly():
    config = ChunkConfig(strategy="characters", size=100, overlap=20)
    chunks = chunk_document(DOC, config, tokens=_Counter())
    assert all(len(c.text) <= 100 for c in chunks)
    assert chunks[1].start == chunks[0].end - 20


def test_markdown_starts_chunks_at_headings(embedder):
    chunks = chunk_document(DOC, ChunkConfig("markdown", 60, 0, "tokens"), embedder.tokens)
    assert sum(c.text.lstrip().startswith("#") for c in chunks) >= 6


def test_semantic_splits_at_topic_change(embedder):
    text = ("Roses need sunlight. Roses like water. Roses bloom in June. "
            "The laptop needs a charger. The laptop has a keyboard. The laptop runs Linux.")
    doc = Document("s", "s.txt", text)
    chunks = chunk_document(doc, ChunkConfig("semantic", 500, 0, "characters", semantic_percentile=20), embedder.tokens,
                            embed=embedder.encode)
    assert [("Roses" in c.text, "laptop" in c.text) for c in chunks] == [(True, False), (False, True)]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size": 0}, "greater than 0"),
        ({"size": -5}, "greater than 0"),
        ({"size": 100, "overlap": 100}, "smaller than the chunk size"),
        ({"size": 100, "overlap": 150}, "smaller than the chunk size"),
        ({"overlap": -1}, "at least 0"),
        ({"strategy": "paragraphs"}, "unknown chunking strategy"),
        ({"unit": "words"}, "unknown unit"),
    ],
)
def test_config_validation(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ChunkConfig(**kwargs)


def test_fixed_strategies_force_their_unit():
    assert ChunkConfig("characters", 100, 10, "tokens").unit == "characters"
    assert ChunkConfig("tokens", 100, 10, "characters").unit == "tokens"


def test_sentence_spans_worked_example():
    text = "Hello there. How are you? Fine!\n\n# Next\nMore text."
    assert [text[s:e] for s, e in sentence_spans(text)] == ["Hello there.", "How are you?", "Fine!", "# Next", "More text."]


def test_pack_spans_overlap_carries_trailing_sentence():
    text = "Aaaa. Bbbb. Cccc. Dddd."
    units = sentence_spans(text)
    spans = pack_spans(text, units, size=12, overlap=6, length=len)
    assert [text[s:e] for s, e in spans] == ["Aaaa. Bbbb.", "Bbbb. Cccc.", "Cccc. Dddd."]


def test_token_windows_worked_example():
    assert token_windows([(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)], size=2, overlap=0) == [(0, 3), (4, 7), (8, 9)]


class _Counter:
    """Whitespace token counter for tests that only need character sizes."""

    def count(self, texts):
        return [len(t.split()) for t in texts]

    def offsets(self, text):
        raise AssertionError("not used")
