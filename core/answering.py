"""One question, five systems: base, RAG, LoRA, LoRA+RAG and long context, with the same decoding settings.

- **base**: the base generator, no retrieval.
- **rag**: the base generator with the top-k retrieved chunks in the prompt (``build_messages``).
- **lora**: the adapter model, no retrieval. Its "sources" are the training examples
  closest to the question by embedding similarity (what the adapter most likely learned from).
- **lora+rag**: the adapter model with the same retrieved chunks.
- **long-context**: the base generator with every document of the corpus in the prompt, in
  order, until the context window is full; no retrieval (``long_context_passages``).

>>> answerer = Answerer(base, retriever=retriever, adapter=adapter_gen,
...                     training=TrainingExamples.build(embedder, qa_items))   # doctest: +SKIP
>>> a = answerer.answer("When does Thornbury Blooms open?", "rag")               # doctest: +SKIP
>>> a.to_dict()                                                                  # doctest: +SKIP
{'system': 'rag', 'answer': 'Thornbury Blooms opens at 8:30 am.',
 'sources': [{'kind': 'chunk', 'document': 'thornbury-blooms.md', 'start': 0, 'end': 512,
              'score': 0.0328, 'rank': 1, 'text': '…'}, …],
 'prompt_tokens': 301, 'completion_tokens': 11, 'latency_s': 0.12, 'settings': {…}}
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np

from core.rag.corpora import QAItem
from core.errors import ConfigError, LabError, check_numbers
from core.llm.plan import PromptPlan, long_context_passages, plan_prompt
from core.llm.profiles import profile_of
from core.llm.prompting import prompt_budget
from core.rag.retrieval import check_query

SYSTEMS = ("base", "rag", "lora", "lora+rag", "long-context")
USES_RETRIEVAL = {"base": False, "rag": True, "lora": False, "lora+rag": True, "long-context": False}
USES_ADAPTER = {"base": False, "rag": False, "lora": True, "lora+rag": True, "long-context": False}
USES_CORPUS = {"base": False, "rag": False, "lora": False, "lora+rag": False, "long-context": True}
N_TRAINING_SOURCES = 3  # closest training examples shown for a LoRA answer


@dataclass(frozen=True)
class Decoding:
    """Sampling settings shared by every system, so that only the system differs."""

    max_new_tokens: int = 48  # world answers are one sentence: ~15-25 tokens
    temperature: float = 0.0  # 0 = greedy, reproducible answers
    top_k: int = 0  # 0 = no top-k cut
    top_p: float = 1.0  # 1 = no nucleus cut
    copy: bool | None = None  # copy decoding (core.llm.copying): None = the model's default, on for the English reader
    copy_unit: str | None = None  # "sentence" or "span" (any words): None = the model's (core.llm.reading)

    def __post_init__(self) -> None:
        check_numbers(whole={"max_new_tokens": self.max_new_tokens, "top_k": self.top_k},
                      real={"temperature": self.temperature, "top_p": self.top_p})
        if self.copy not in (None, True, False):
            raise ConfigError(f"copy must be true, false or unset (got {self.copy!r})")
        if self.copy_unit not in (None, "sentence", "span"):
            raise ConfigError(f"copy_unit must be sentence, span or unset (got {self.copy_unit!r})")
        if not 1 <= self.max_new_tokens <= 512:
            raise ConfigError(f"max_new_tokens must be between 1 and 512 (got {self.max_new_tokens})")
        if not 0 <= self.temperature <= 5:
            raise ConfigError(f"temperature must be between 0 and 5 (got {self.temperature})")
        if not 0 <= self.top_k <= 100_000:
            raise ConfigError(f"top_k must be 0 (off) up to 100,000 (got {self.top_k})")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be greater than 0 and at most 1 (got {self.top_p})")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Source:
    """Why an answer says what it says: a retrieved chunk, or a training example (LoRA)."""

    kind: str  # "chunk" | "training_example" | "document" (long context: a document, whole or cut)
    text: str
    score: float  # retrieval score (chunk) or cosine similarity to the question (training example)
    rank: int
    document: str = ""  # chunk: file name
    start: int | None = None  # chunk: character offsets into the document
    end: int | None = None
    index: int | None = None  # training example: row number (0-based) in the training file
    question: str = ""  # training example: its question
    first_stage_rank: int | None = None  # chunk: its rank before reranking (when a reranker ran)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}


@dataclass
class Answer:
    system: str
    text: str
    sources: list[Source]
    prompt_tokens: int
    completion_tokens: int
    latency_s: float  # retrieval + generation, seconds
    settings: dict
    model: str = ""
    n_contexts_dropped: int = 0  # retrieved chunks left out so the prompt fits the context window
    corpus_share: float | None = None  # long-context: share of the corpus's tokens that fit in the prompt
    focus: list[str] | None = None  # the sentences sentence focus kept for the prompt (core.rag.focus), if it ran
    retrieved: list[Source] | None = None  # systems that read passages: every hit retrieved (long context: every document)
    passages: list[str] | None = None  # systems that read passages: exactly the passage texts the prompt held
    plan: PromptPlan | None = field(default=None, repr=False)  # the prompt it was generated from (not in the JSON)

    def to_dict(self) -> dict:
        """The CLI's JSON shape: system, answer, sources, prompt_tokens, completion_tokens, latency_s (+ settings, model);
        long-context answers add ``corpus_share``; focused RAG answers add ``focus`` (the kept sentences)."""
        out = {"system": self.system, "answer": self.text, "sources": [s.to_dict() for s in self.sources],
               "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
               "latency_s": round(self.latency_s, 4), "settings": self.settings, "model": self.model}
        if self.corpus_share is not None:
            out["corpus_share"] = round(self.corpus_share, 4)
        if self.focus is not None:
            out["focus"] = self.focus
        return out


def check_systems(systems: Sequence[str]) -> list[str]:
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise ConfigError(f"unknown system(s) {', '.join(unknown)}; choose from {', '.join(SYSTEMS)}")
    return list(systems)


# --- LoRA sources: the training examples nearest to the question ----------------------

@dataclass
class TrainingExamples:
    """The Q&A rows an adapter was trained on, embedded once, searchable by question."""

    items: list[QAItem]
    vectors: np.ndarray = field(repr=False)
    embedder: object = field(repr=False)

    @classmethod
    def build(cls, embedder, items: Sequence[QAItem]) -> "TrainingExamples":
        items = list(items)
        return cls(items, embedder.encode([f"{it.question} {it.answer}" for it in items]), embedder)

    def nearest(self, question: str, k: int = N_TRAINING_SOURCES) -> list[Source]:
        if not self.items:
            return []
        sims = self.vectors @ self.embedder.encode([question])[0]
        order = np.argsort(-sims, kind="stable")[:k]
        return [Source("training_example", self.items[i].answer, round(float(sims[i]), 4), rank, index=int(i),
                       question=self.items[i].question) for rank, i in enumerate(order, start=1)]


TRAINING_FILES = ("train_qa.jsonl", "training_qa.jsonl", "qa.jsonl", "train.jsonl")  # looked for in an adapter folder


def training_items(adapter_dir, fallback: Sequence[QAItem] = ()) -> list[QAItem]:
    """The Q&A rows an adapter was trained on: a Q&A file saved in its folder, else ``fallback``
    (usually the corpus Q&A set the adapter was trained from)."""
    from pathlib import Path

    from core.rag.corpora import load_qa
    from core.errors import DatasetError

    for name in TRAINING_FILES if adapter_dir else ():
        path = Path(adapter_dir) / name
        if path.is_file():
            try:
                return load_qa(path)
            except DatasetError:
                continue
    return list(fallback)


# --- prompts ------------------------------------------------------------------------

def chunk_source(hit) -> Source:
    c = hit.chunk
    return Source("chunk", c.text, round(float(hit.score), 6), hit.rank, document=c.doc_name, start=c.start, end=c.end,
                  first_stage_rank=hit.details.get("first_stage_rank"))


# --- the four systems ---------------------------------------------------------------

def default_k(gen) -> int:
    """Chunks per RAG prompt: the model profile's ``k`` (1 for the built-in models, 3 for real ones).

    A tiny model's accuracy falls fast with every extra passage (it copies a value from a
    distractor about a similar entity; see its MODEL_CARD), while the retriever's top chunk
    already holds the answer on the world corpora (hit@1 ≈ 1.0). Real models read 3 fine.
    """
    return profile_of(gen).k


def reads_by_copying(gen) -> bool:
    """Whether copy decoding is on by default for ``gen``: its profile's ``copy``.

    The English models were measured to copy the right sentence more often than they write one
    (their MODEL_CARDs have the numbers); left free a small model drifts into other sentences.
    """
    return profile_of(gen).copy


def copy_unit_of(gen, decoding: Decoding) -> str:
    """What a copy may start and end on: the decoding's choice, else the model profile's."""
    return decoding.copy_unit or profile_of(gen).copy_unit


def default_focus(gen) -> int:
    """Sentences kept by sentence focus: the profile's ``focus`` (0 = off)."""
    return profile_of(gen).focus


@dataclass(frozen=True)
class SystemInput:
    """Everything one system hands the model for one question (``Answerer.prepare``)."""

    generator: object
    plan: PromptPlan  # the prompt, built once: what generate() feeds the model and what confidence scores
    sources: list[Source]
    corpus_share: float | None = None  # long context: share of the corpus's tokens in the prompt
    retrieved: list[Source] | None = None  # what the prompt's passages were chosen from (hits, or the whole documents)


@dataclass
class Answerer:
    """Answers questions with any of the four systems; systems without their ingredient raise ConfigError."""

    base: object  # core.llm.generation.Generator
    retriever: object | None = None  # core.rag.retrieval.Retriever
    adapter: object | None = None  # Generator with the LoRA adapter (core.finetune.load_adapter)
    training: TrainingExamples | None = None
    k: int | None = None  # chunks in the prompt; None = default_k(base)
    mode: str = "hybrid"
    reranker: object | None = None  # core.rag.rerank.Reranker: the first stage's top-N reranked before the top-k
    documents: Sequence | None = None  # the corpus's Documents (for long context)
    focus: int | None = None  # sentence focus (core.rag.focus): sentences kept; 0 = off, None = default_focus(base)

    def __post_init__(self) -> None:
        from core.rag.focus import check_focus

        if self.k is None:
            self.k = default_k(self.base)
        self.focus = default_focus(self.base) if self.focus is None else check_focus(self.focus)

    def available(self) -> list[str]:
        return [s for s in SYSTEMS if self.missing(s) is None]

    def generator(self, system: str):
        """The generator that answers for ``system``: the adapter for LoRA systems, else the base model."""
        return self.adapter if USES_ADAPTER[system] else self.base

    def missing(self, system: str) -> str | None:
        """Why ``system`` cannot run here, or None."""
        if USES_ADAPTER[system] and self.adapter is None:
            return "no LoRA adapter is loaded: train one on the fine-tuning page (or pass --adapter)"
        if USES_RETRIEVAL[system] and self.retriever is None:
            return "no documents are indexed"
        if USES_CORPUS[system] and not self.documents:
            return "no documents are loaded"
        return None

    def retrieve(self, question: str):
        if self.retriever is None:
            return []
        if self.reranker is not None:
            return self.reranker.search(self.retriever, question, k=self.k, mode=self.mode)
        return self.retriever.search(question, k=self.k, mode=self.mode)

    def prepare(self, question: str, system: str, decoding: Decoding = Decoding(), hits=None) -> "SystemInput":
        """What ``system`` gives the model for ``question``: the generator, the messages and their sources."""
        check_systems([system])
        question = check_query(question)  # every system, not only RAG: an empty question is refused here
        reason = self.missing(system)
        if reason:
            raise ConfigError(f"The {system} system cannot answer: {reason}.")
        gen = self.generator(system)
        sources, share, retrieved, chunks, focus = [], None, None, None, 0
        if USES_CORPUS[system]:
            budget = prompt_budget(int(getattr(gen, "context_window", 1024) or 1024), decoding.max_new_tokens)
            fitted = long_context_passages(gen, question, self.documents, budget)
            chunks, share = fitted.passages, fitted.share
            sources = [Source("document", text, round(n / max(1, whole), 4), i, document=name, start=0, end=len(text))
                       for i, (text, n, whole, name) in enumerate(zip(fitted.passages, fitted.tokens,
                                                                      fitted.document_tokens, fitted.names), start=1)]
            retrieved = [Source("document", d.text, 1.0, i, document=d.name, start=0, end=len(d.text))
                         for i, d in enumerate(self.documents, start=1)]
        elif USES_RETRIEVAL[system]:
            hits = self.retrieve(question) if hits is None else hits
            chunks, focus, retrieved = [h.chunk.text for h in hits], self.focus, [chunk_source(h) for h in hits]
        elif USES_ADAPTER[system] and self.training is not None:
            sources = self.training.nearest(question)
        plan = plan_prompt(gen, question, chunks, max_new_tokens=decoding.max_new_tokens, focus=focus,
                           embedder=self.retriever.embedder if focus else None)
        if retrieved is not None and not USES_CORPUS[system]:
            sources = retrieved[:plan.n_kept]
        return SystemInput(gen, plan, sources, share, retrieved)

    def answer(self, question: str, system: str, decoding: Decoding = Decoding(), *, hits=None,
               retrieval_s: float = 0.0, on_token: Callable[[str], None] | None = None) -> Answer:
        """One answer; ``hits`` (found in ``retrieval_s`` seconds) reuses a retrieval made for this question."""
        from core.llm.generation import generate

        t0 = time.perf_counter() - (retrieval_s if hits is not None and USES_RETRIEVAL.get(system) else 0.0)
        given = self.prepare(question, system, decoding, hits)  # rag and lora+rag each pay for the shared search
        gen = given.generator
        copy = reads_by_copying(gen) if decoding.copy is None else decoding.copy
        out = generate(gen, given.plan, max_new_tokens=decoding.max_new_tokens,
                       temperature=decoding.temperature, top_k=decoding.top_k, top_p=decoding.top_p, on_token=on_token,
                       copy_from=given.plan.passages if copy else None, copy_unit=copy_unit_of(gen, decoding))
        kept = given.plan.kept_sentences
        return Answer(system, out.text.strip(), given.sources, out.prompt_tokens, out.completion_tokens,
                      time.perf_counter() - t0, {**decoding.to_dict(), **out.settings, "focus": self.focus if kept else 0},
                      getattr(gen, "name", ""), given.plan.n_dropped, given.corpus_share, kept, given.retrieved,
                      list(given.plan.passages) if given.retrieved is not None else None, given.plan)

    def answer_all(self, question: str, systems: Sequence[str] = SYSTEMS, decoding: Decoding = Decoding(),
                   on_token: Callable[[str, str], None] | None = None,
                   errors: dict[str, LabError] | None = None) -> list[Answer]:
        """Answers from each of ``systems`` (retrieving once); ``on_token(system, piece)`` streams them.

        With an ``errors`` dict, a system that fails (e.g. a prompt too long for the model) is
        recorded there and the others still answer: one failure does not discard three answers.
        """
        systems = check_systems(systems)
        t0 = time.perf_counter()
        hits = self.retrieve(question) if any(USES_RETRIEVAL[s] for s in systems) else None
        retrieval_s = time.perf_counter() - t0
        out = []
        for system in systems:
            stream = (lambda piece, s=system: on_token(s, piece)) if on_token else None
            try:
                out.append(self.answer(question, system, decoding, hits=hits, retrieval_s=retrieval_s, on_token=stream))
            except LabError as exc:
                if errors is None:
                    raise
                errors[system] = exc
        return out


def estimated_cost(answer: Answer, price_in_per_1k: float, price_out_per_1k: float) -> float:
    """Dollars this answer would cost at hosted-API token prices."""
    return (answer.prompt_tokens * price_in_per_1k + answer.completion_tokens * price_out_per_1k) / 1000
