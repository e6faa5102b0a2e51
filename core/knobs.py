"""The knob that addresses each failure label, and one question re-run with that knob turned.

Each label of ``core.failures`` points at the stage that lost the value, so at the setting to change:

==================  ==========================================================================
not_retrieved       retrieval mode, reranking, chunk size (and k): find the chunk that holds it
cut_from_prompt     k, the window (room left for the prompt), sentence focus: keep it in the prompt
in_prompt_unused    copy decoding, or a stronger reader: use what the prompt holds
not_learned         training steps, paraphrases, the open-book mix: write it into the weights
not_in_corpus       none: add a document that holds it (no setting can find what is not there)
==================  ==========================================================================

Knobs that change how a question is answered (retrieval, prompt, decoding) re-run in a second: ``rerun``
answers the question again with the knob turned and labels the new answer by the same rule. Knobs that change
training (``TRAINING_KNOBS``) need a new adapter: ``training_config`` gives its config, the caller trains.

>>> [k.name for k in knobs_for("cut_from_prompt")]
['k', 'window', 'focus']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

from core.answering import Answerer, Decoding, reads_by_copying
from core.errors import ConfigError
from core.failures import label_answer


@dataclass(frozen=True)
class Knob:
    name: str
    title: str  # what a button says
    why: str  # how turning it addresses the label


KNOBS: dict[str, tuple[Knob, ...]] = {
    "not_retrieved": (
        Knob("mode", "Another retrieval mode", "dense finds paraphrases, BM25 finds rare names and numbers"),
        Knob("rerank", "Reranking on/off", "reranking reads the top candidates closely before the top k"),
        Knob("chunk_size", "Chunk size ×2", "a larger chunk holds more of its document around the value"),
        Knob("k", "k + 2", "more chunks in the prompt: the value's chunk may be just below the cut"),
    ),
    "cut_from_prompt": (
        Knob("k", "k − 1", "fewer chunks compete for the window, so the ones kept are whole"),
        Knob("window", "More room for the prompt", "a shorter answer cap leaves more of the window for passages"),
        Knob("focus", "Sentence focus off/on", "focus keeps only the sentences closest to the question: off keeps whole chunks"),
    ),
    "in_prompt_unused": (
        Knob("copy", "Copy decoding on/off", "copy decoding makes the answer a sentence copied from the passages"),
        Knob("reader", "A stronger reader", "a larger model reads passages more reliably (choose it on the Model page)"),
    ),
    "not_learned": (
        Knob("steps", "Train twice as long", "more steps write the facts deeper into the adapter"),
        Knob("paraphrases", "Train with paraphrases", "varied wordings make a fact recallable from other questions"),
        Knob("open_book_mix", "More open-book examples", "facts also shown with their passage are learned with context"),
    ),
    "not_in_corpus": (),
    "none": (),
}
TRAINING_KNOBS = ("steps", "paraphrases", "open_book_mix")
MODE_NEXT = {"hybrid": "bm25", "bm25": "dense", "dense": "hybrid"}


RETRIEVAL_KNOBS = ("mode", "rerank", "chunk_size", "k", "focus")  # they change what retrieval hands the prompt


def knobs_for(label: str, system: str = "") -> tuple[Knob, ...]:
    """The knobs that address ``label`` (none for ``none`` and ``not_in_corpus``); for a ``system`` that reads the
    whole corpus (long context), only those that change its prompt (the window).

    >>> [k.name for k in knobs_for("cut_from_prompt", "long-context")]
    ['window']
    """
    from core.answering import USES_CORPUS

    if label not in KNOBS:
        raise ConfigError(f"unknown failure label {label!r}; choose from {', '.join(KNOBS)}")
    if USES_CORPUS.get(system, False):
        return tuple(k for k in KNOBS[label] if k.name not in RETRIEVAL_KNOBS)
    return KNOBS[label]


def turn(answerer: Answerer, decoding: Decoding, knob: str, label: str = "", *, cache=None):
    """(answerer, decoding, what changed) with ``knob`` turned one step; the given ones are not changed.

    ``label``: the failure being addressed (k goes up for ``not_retrieved``, down for ``cut_from_prompt``);
    ``cache``: the embedding cache, so a new chunk size embeds only new chunks.
    """
    if knob == "mode":
        mode = MODE_NEXT.get(answerer.mode, "hybrid")
        return dataclasses.replace(answerer, mode=mode), decoding, f"retrieval mode {answerer.mode} → {mode}"
    if knob == "rerank":
        turned, change = _toggle_rerank(answerer)
        return turned, decoding, change
    if knob == "chunk_size":
        return _double_chunks(answerer, cache), decoding, _chunk_note(answerer)
    if knob == "k":
        k = answerer.k + 2 if label != "cut_from_prompt" else max(1, answerer.k - 1)
        return dataclasses.replace(answerer, k=k), decoding, f"k {answerer.k} → {k}"
    if knob == "window":
        cap = max(8, decoding.max_new_tokens // 2)
        return answerer, dataclasses.replace(decoding, max_new_tokens=cap), \
            f"answer cap {decoding.max_new_tokens} → {cap} tokens: {decoding.max_new_tokens - cap} more for the prompt"
    if knob == "focus":
        focus = 0 if answerer.focus else 2
        return dataclasses.replace(answerer, focus=focus), decoding, f"sentence focus {answerer.focus or 'off'} → {focus or 'off'}"
    if knob == "copy":
        now = reads_by_copying(answerer.base) if decoding.copy is None else decoding.copy
        return answerer, dataclasses.replace(decoding, copy=not now), f"copy decoding {'on → off' if now else 'off → on'}"
    raise ConfigError(f"the knob {knob!r} cannot re-run a question: "
                      + ("it needs a new adapter (training_config)" if knob in TRAINING_KNOBS else
                         "choose a stronger model on the Model page" if knob == "reader" else "unknown knob"))


def _toggle_rerank(answerer: Answerer):
    from core.rag.rerank import DEFAULT_METHOD, RerankConfig, make_reranker

    on = answerer.reranker is not None and answerer.reranker.config.method != "none"
    if on:
        return dataclasses.replace(answerer, reranker=None), f"reranking {answerer.reranker.config.method} → off"
    reranker = answerer.reranker.with_config(RerankConfig(DEFAULT_METHOD)) if answerer.reranker is not None else \
        make_reranker(answerer.retriever.embedder, RerankConfig(DEFAULT_METHOD))
    return dataclasses.replace(answerer, reranker=reranker), f"reranking off → {DEFAULT_METHOD}"


def _chunk_note(answerer: Answerer) -> str:
    size = answerer.retriever.chunk_config.size
    return f"chunk size {size} → {size * 2} {answerer.retriever.chunk_config.unit}"


def _double_chunks(answerer: Answerer, cache=None) -> Answerer:
    from core.rag.retrieval import Retriever

    if answerer.retriever is None or not answerer.documents:
        raise ConfigError("Changing the chunk size needs the documents and an index.")
    old = answerer.retriever.chunk_config
    config = dataclasses.replace(old, size=old.size * 2, overlap=min(old.overlap, old.size))
    retriever = Retriever.build(answerer.documents, answerer.retriever.embedder, config, answerer.retriever.index_config,
                                cache=cache)
    return dataclasses.replace(answerer, retriever=retriever)


def training_config(knob: str, config):
    """The ``FinetuneConfig`` with a training knob turned: twice the epochs, two more paraphrases, or twice the mix."""
    if knob == "steps":
        return dataclasses.replace(config, epochs=config.epochs * 2, max_steps=config.max_steps * 2)
    if knob == "paraphrases":
        return dataclasses.replace(config, paraphrases=config.paraphrases + 2)
    if knob == "open_book_mix":
        return dataclasses.replace(config, open_book_mix=min(1.0, max(0.5, config.open_book_mix * 2)))
    raise ConfigError(f"{knob!r} is not a training knob; choose from {', '.join(TRAINING_KNOBS)}")


def rerun(answerer: Answerer, item, system: str, decoding: Decoding, knob: str, label: str = "", *,
          question: str | None = None, documents: Sequence[str] | None = None, cache=None) -> dict:
    """Ask ``item`` again with ``knob`` turned: ``{"knob", "change", "answer", "correct", "failure", "detail",
    "retrieved", "in_prompt"}``, labelled by ``core.failures`` exactly as a batch evaluation row is."""
    from core.scoring import is_correct

    turned, dec, change = turn(answerer, decoding, knob, label, cache=cache)
    answer = turned.answer(question or item.question, system, dec)
    targets = [t.target for t in turned.training.items] if turned.training is not None else None
    docs = documents if documents is not None else [d.text for d in turned.documents or []] or None
    failure = label_answer(answer, item.target, docs, targets)
    return {"knob": knob, "change": change, "answer": answer.text, "correct": is_correct(answer.text, item),
            **failure.to_dict()}
