"""What this session works with: its documents, chunks, retriever and Q&A set; the generator the Model page
or the Lab's rule picks, its adapters, the answerer.

Everything here is loaded through ``ui.resources`` (cached once per process, never mutated) and chosen from
the session's state: the corpus, the chunk settings, the embedder, the Model page's choice, the adapters.
The views in ``ui/*_views.py`` then draw what these return, and never read the session themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import streamlit as st

from core.answering import Answerer
from core.errors import AdapterError, DatasetError, EmptyCorpus, ModelUnavailable
from core.finetune import AdapterInfo, adapter_fits, list_adapters
from core.llm.choice import ModelChoice
from core.rag.chunking import Chunk, ChunkConfig
from core.rag.corpora import QAItem
from core.rag.documents import Document
from core.rag.retrieval import Retriever
from ui.answer_views import adapter_label
from ui.navigation import page_file
from ui.resources import (chunk_doc_cached, get_adapter_generator, get_generator, get_model_choice, get_qa, get_reranker,
                          get_training_examples)
from ui.state import current_corpus, current_documents, get_retriever, session_workspace

MODEL_PAGE = page_file("model")


def chunk_corpus(docs: Sequence[Document], config: ChunkConfig) -> list[Chunk]:
    name = st.session_state.get("embedder_name")
    return [c for doc in docs for c in chunk_doc_cached(doc.id, config.to_dict(), name, doc)]


def documents_and_retriever() -> tuple[list[Document], Retriever]:
    """The current documents and their retriever (built with a progress bar); stops the page when empty."""
    docs = current_documents()
    if not docs:
        st.info("There are no documents: upload files on the Documents page or pick a sample corpus in the sidebar.")
        st.stop()
    try:
        return docs, get_retriever(docs, st.session_state["chunk_config"])
    except EmptyCorpus as exc:
        st.info(str(exc))
        st.stop()


def corpus_qa() -> list[QAItem] | None:
    """The selected sample corpus's Q&A set, else the question bank this session made from its documents
    (``saved_bank``), else None."""
    corpus = current_corpus()
    if corpus is None or corpus.qa_path is None:
        from core.questions.bank import to_qa_items
        return to_qa_items(saved_bank()) or None
    try:
        return get_qa(str(corpus.qa_path))
    except DatasetError as exc:
        st.warning(str(exc))
        return None


def bank_path() -> Path:
    """Where this session keeps the question bank of its current corpus (``ui.question_sections`` edits it)."""
    return session_workspace().path("questions", f"{st.session_state.get('corpus', 'uploads')}.jsonl")


def saved_bank() -> list:
    """The session's question bank for the current corpus ([] when none was made)."""
    from core.questions.quality import read_bank

    path = bank_path()
    return read_bank(path) if path.exists() else []


def corpus_choice() -> ModelChoice:
    """The model the one rule (core.llm.choice) picks for the current documents (sample corpus or uploads)."""
    return get_model_choice(tuple(d.text[:20_000] for d in current_documents()[:20]))


def session_generator_name() -> str:
    """The Model page's choice, else the built-in model the rule picks for the current corpus."""
    return st.session_state.get("generator_name") or corpus_choice().name


def base_generator():
    """The session's generator (Model page choice, else the built-in model for the corpus; fetched with a
    progress bar the first time); stops the page if it cannot load."""
    try:
        return get_generator(session_generator_name())
    except ModelUnavailable as exc:
        st.error(f"The generator cannot be loaded: {exc}")
        st.page_link(MODEL_PAGE, label="Choose another model on the Model page", icon="🤖")
        st.stop()


def saved_adapters(gen=None) -> list[AdapterInfo]:
    """The session's adapters that have weights, newest first; with ``gen``, only those trained on its model
    (an adapter is never offered under another base)."""
    adapters = [a for a in list_adapters(session_workspace().path("adapters")) if a.has_weights]
    return [a for a in adapters if adapter_fits(a, gen)] if gen is not None else adapters


def pick_adapter(adapters: list[AdapterInfo], label: str, key: str, prefer=None) -> AdapterInfo | None:
    """A selectbox of adapters (``prefer(a)`` chooses the default); None when there are none."""
    if not adapters:
        return None
    default = next((i for i, a in enumerate(adapters) if prefer and prefer(a)), 0)
    names = [a.name for a in adapters]
    if st.session_state.get(key) not in (None, *names):
        del st.session_state[key]  # a saved choice (e.g. restored after a refresh) whose adapter is gone
    name = st.selectbox(label, names, index=default, key=key, format_func=lambda n: adapter_label(adapters[names.index(n)]))
    return adapters[names.index(name)]


def adapter_generator(info: AdapterInfo | None):
    """The adapter model for ``info`` (or None); shows an error and returns None if it cannot load."""
    if info is None:
        return None
    weights = info.path / "adapter_model.safetensors"
    mtime = (weights if weights.exists() else info.path / "metrics.json").stat().st_mtime
    try:
        return get_adapter_generator(session_generator_name(), str(info.path), mtime)
    except AdapterError as exc:
        st.error(str(exc))
        return None


def make_answerer(base, retriever, info: AdapterInfo | None, qa: list[QAItem] | None, k: int | None = None,
                  mode: str = "hybrid", documents=None, focus: int | None = None) -> Answerer:
    """The five systems over the session's generator, retriever and chosen adapter (with the session's reranker)."""
    adapter = adapter_generator(info)
    training = None
    if adapter is not None:
        training = get_training_examples(st.session_state.get("embedder_name"), str(info.path),
                                         (info.path / "metrics.json").stat().st_mtime, tuple(qa or ()))
    reranker = get_reranker(st.session_state.get("embedder_name"))  # RAG reads the reranked top chunk(s)
    return Answerer(base, retriever, adapter, training, k=k, mode=mode, reranker=reranker, documents=documents,
                    focus=focus)
