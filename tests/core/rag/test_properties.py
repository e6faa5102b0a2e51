"""Property-based: arbitrary text and settings through chunker, index and retriever.

Whatever a user types, core answers with a typed ``LabError`` (the page shows its message) or a
valid result, never another exception. The real MiniLM embedder loads once per test session.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.rag.chunking import STRATEGIES, UNITS, ChunkConfig, chunk_documents
from core.rag.documents import Document
from core.errors import LabError
from core.rag.index import KINDS, MODES, IndexConfig
from core.rag.retrieval import Retriever

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
WORDS = ["the", "and", "of", "a", "roses", "delivery", "costs", "$9.95", "Ashcombe", "é", "日本", "\n\n", "#", "-", " ", "."]
texts = st.one_of(
    st.text(max_size=300),  # anything at all: control characters, surrogates excluded by hypothesis
    st.lists(st.sampled_from(WORDS), max_size=60).map(" ".join),  # stop words, symbols, markdown
)
sizes = st.one_of(st.integers(-2, 40), st.sampled_from([0, 1, 2, 10_000, 100_001]))
configs = st.builds(lambda strategy, size, overlap, unit: (strategy, size, overlap, unit),
                    st.sampled_from(STRATEGIES), sizes, st.integers(-1, 12), st.sampled_from(UNITS))


def make_chunk_config(strategy, size, overlap, unit) -> ChunkConfig | None:
    try:
        return ChunkConfig(strategy, size, overlap, unit)
    except LabError:
        return None


@SETTINGS
@given(docs=st.lists(texts, min_size=1, max_size=3), config=configs)
def test_chunker_gives_typed_error_or_chunks_inside_the_text(embedder, docs, config):
    chunk_config = make_chunk_config(*config)
    if chunk_config is None:
        return
    documents = [Document(f"d{i}", f"d{i}.txt", text) for i, text in enumerate(docs)]
    chunks = chunk_documents(documents, chunk_config, embedder.tokens, embedder.encode)
    by_id = {d.id: d for d in documents}
    for chunk in chunks:
        assert chunk.text == by_id[chunk.doc_id].text[chunk.start:chunk.end] and chunk.text.strip()


@SETTINGS
@given(docs=st.lists(texts, min_size=1, max_size=3), config=configs, kind=st.sampled_from(KINDS),
       mode=st.sampled_from(MODES), k=st.integers(-1, 60), query=texts)
def test_retriever_gives_typed_error_or_ranked_hits(embedder, docs, config, kind, mode, k, query):
    chunk_config = make_chunk_config(*config)
    if chunk_config is None or chunk_config.strategy == "semantic":  # semantic: covered by the chunker test
        return
    documents = [Document(f"d{i}", f"d{i}.txt", text) for i, text in enumerate(docs)]
    try:
        retriever = Retriever.build(documents, embedder, chunk_config, IndexConfig(kind=kind))
        hits = retriever.search(query, k=k, mode=mode)
    except LabError:
        return
    assert 1 <= len(hits) <= min(k, len(retriever.chunks)) or (mode != "dense" and not hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(np.isfinite(h.score) for h in hits)
    assert len({id(h.chunk) for h in hits}) == len(hits)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_one_chunk_corpus_with_k_above_its_size(embedder, kind, mode):
    """The smallest corpus, every index type and mode, k = 20: one hit (or IVF's typed error)."""
    docs = [Document("a", "one.txt", "Roses need six hours of sun.")]
    try:
        retriever = Retriever.build(docs, embedder, ChunkConfig(), IndexConfig(kind=kind))
    except LabError as exc:
        assert kind == "ivf" and "needs at least" in str(exc)
        return
    hits = retriever.search("How much sun do roses need?", k=20, mode=mode)
    assert [h.chunk.text for h in hits] == ["Roses need six hours of sun."]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_chunk_size_one_works_in_every_chunker(embedder, strategy):
    doc = Document("a", "a.txt", "Delivery to Ashcombe costs $9.95.\n\nRoses need sun.")
    chunks = chunk_documents([doc], ChunkConfig(strategy, 1, 0), embedder.tokens, embedder.encode)
    assert chunks and all(doc.text[c.start:c.end] == c.text for c in chunks)
    Retriever.build([doc], embedder, ChunkConfig(strategy, 1, 0)).search("delivery", k=3, mode="hybrid")


def test_stop_word_document_has_no_bm25_terms_but_still_searches(embedder):
    retriever = Retriever.build([Document("s", "stop.txt", "the and of to a in")], embedder)
    for mode in MODES:
        hits = retriever.search("the", k=5, mode=mode)
        assert all(h.details["bm25"] == 0.0 for h in hits)
    assert len(retriever.search("anything", k=5, mode="dense")) == 1
