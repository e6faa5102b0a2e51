"""The prompt plan: what one system gives the model for one question, built once and kept with the answer.

A prompt is made in five steps, always in this order:

1. **fit** the ranked chunks into the window (``fit_chunks``: drop the last, keep at least one);
2. **focus** them to their best sentences when the model's profile (or the user) asks for it;
3. **order** the passages (best first, reversed, or best at the edges);
4. **render** the messages with the tokenizer's chat template (or the plain format);
5. **encode** the rendered text into the token ids the model reads.

``plan_prompt`` does all five and returns a ``PromptPlan``. Answers generate from ``plan.ids``
and keep the plan; the Prompt page shows it; confidence and attribution score it. So every
number on the screen is about the prompt the model was given, not a rebuilt look-alike.

The long-context system fills the window with whole documents instead of retrieved chunks
(``long_context_passages``) and hands those passages to the same plan.

>>> plan = plan_prompt(gen, "Who owns Elmby Blooms?", ["Ada Vance owns Elmby Blooms."])   # doctest: +SKIP
>>> plan.passages, plan.n_tokens == len(plan.ids)                                         # doctest: +SKIP
(['Ada Vance owns Elmby Blooms.'], True)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Sequence

from core.errors import ConfigError
from core.llm.profiles import profile_of
from core.llm.prompting import (Prompt, assemble_prompt, build_messages, encode, fit_chunks, order_chunks,
                                prompt_budget)


@dataclass(frozen=True)
class PromptPlan:
    """One prompt, as the model receives it, with how it was made.

    ``passages`` are the texts in the prompt (after fit, focus and order); ``ids`` are what
    ``core.llm.generation.generate`` feeds the model; ``prompt`` splits ``text`` into parts
    with token counts (the Prompt page's budget chart).
    """

    question: str
    passages: list[str]
    prompt: Prompt
    ids: list[int]
    n_offered: int = 0  # chunks offered (retrieved) before the window fit
    n_kept: int = 0  # chunks the window fit kept (before focus merged them)
    focused: object | None = None  # core.rag.focus.Focused when sentence focus ran
    order: str = "score"

    @property
    def messages(self) -> list[dict]:
        return self.prompt.messages

    @property
    def text(self) -> str:
        return self.prompt.text

    @property
    def n_tokens(self) -> int:
        return len(self.ids)

    @property
    def n_dropped(self) -> int:
        """Chunks left out so the prompt fits the window."""
        return self.n_offered - self.n_kept

    @property
    def kept_sentences(self) -> list[str] | None:
        """The sentences sentence focus kept, when it ran."""
        return [r["text"] for r in self.focused.sentences if r["kept"]] if self.focused is not None else None


def _seq2seq(gen) -> bool:
    return bool(getattr(gen, "is_seq2seq", False))


def _window(gen) -> int:
    return int(getattr(gen, "context_window", 1024) or 1024)


def fit_contexts(gen, question: str, contexts: Sequence[str], budget: int, system: str | None = None) -> list[str]:
    """Drop the lowest-ranked passages until the prompt is at most ``budget`` tokens (keeps at least one):
    ``core.llm.prompting.fit_chunks`` in ``gen``'s prompt layout."""
    return fit_chunks(gen.tokenizer, question, list(contexts), budget, system, _seq2seq(gen), profile_of(gen).prompt)


def plan_prompt(gen, question: str, chunks: Sequence[str] | None = None, *, max_new_tokens: int = 48,
                system: str | None = None, embedder=None, focus: int = 0, order: str = "score",
                window: int | None = None) -> PromptPlan:
    """THE prompt for ``question``: fit ``chunks`` (ranked, best first), focus, order, render, encode.

    ``chunks`` None or empty: a closed-book prompt (base and LoRA). ``focus`` > 0 with an
    ``embedder`` keeps that many best sentences of the fitted chunks (``core.rag.focus``); a
    chunk set with no sentence to rank (only headings) is used as it is. ``window`` overrides
    the model's context window (the Prompt page's "what if" slider).

    The fit runs before focus (focus ranks the sentences of what fits) and is checked once more on the
    final passages, since a reorder can tokenise longer; the ids of that last measure are the plan's ids.
    """
    window = _window(gen) if window is None else int(window)
    budget = prompt_budget(window, max_new_tokens)
    offered = [c for c in (chunks or []) if c and c.strip()]
    kept = fit_contexts(gen, question, offered, budget, system) if offered else []
    passages, focused = list(kept), None
    if focus and embedder is not None and kept:
        from core.rag.focus import focus as focus_sentences

        found = focus_sentences(question, kept, embedder, focus)
        if found.text:
            passages, focused = [found.text], found
    passages = order_chunks(passages, order)
    prompt = assemble_prompt(question, passages or None, system, gen.tokenizer, window, max_new_tokens,
                             seq2seq=_seq2seq(gen), style=profile_of(gen).prompt)
    passages = passages[: len(passages) - len(prompt.truncated)]  # a reorder that tokenises longer: what it holds
    return PromptPlan(question, passages, prompt, prompt.ids, len(offered), len(kept), focused, order)


def answer_plan(answerer, question: str, answer) -> PromptPlan:
    """The prompt ``answer`` was generated from: the plan it kept, or, for an answer made without one,
    the plan its system builds now (``core.answering.Answerer.prepare``)."""
    return answer.plan if getattr(answer, "plan", None) is not None else answerer.prepare(question, answer.system).plan


# --- long context: the documents themselves, until the window is full ----------------------------------------

@dataclass(frozen=True)
class LongContext:
    """What of the corpus fits in one prompt: the passages, each one's tokens, and the corpus's tokens."""

    passages: list[str]
    tokens: list[int]  # tokens of each passage
    document_tokens: list[int]  # tokens of each whole document the passages come from (same order)
    names: list[str] = field(default_factory=list)  # the documents' names

    @property
    def corpus_tokens(self) -> int:
        return sum(self.document_tokens)

    @property
    def included_tokens(self) -> int:
        return sum(self.tokens)

    @property
    def share(self) -> float:
        return self.included_tokens / self.corpus_tokens if self.corpus_tokens else 0.0


def long_context_passages(gen, question: str, documents, budget: int) -> LongContext:
    """Every document in order, whole while it fits in ``budget`` prompt tokens; the next one cut to fill it.

    The rule long-context systems follow: no retrieval, so what does not fit is simply not read.
    Each document's size comes from ``document_tokens`` (tokenised once per content); the prompt
    itself is counted exactly at the cut and once at the end, not after every document.
    """
    style, seq2seq = profile_of(gen).prompt, _seq2seq(gen)

    def n_tokens(text: str) -> int:
        return len(gen.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])  # no "too long" warning

    def prompt_tokens(passages: list[str]) -> int:
        return len(encode(gen.tokenizer, build_messages(question, passages, style=style), seq2seq))

    docs = [d for d in documents if d.text.strip()]
    if not docs:
        raise ConfigError("The long-context system needs documents: the corpus is empty.")
    sizes = document_tokens(gen.tokenizer, [d.text for d in docs])
    passages, kept = [], []  # the passages, and each one's tokens
    used = prompt_tokens(["x"])  # the frame: instruction, question, template
    for doc, size in zip(docs, sizes):
        text = doc.text.strip()
        if used + size + 8 > budget:  # does not fit whole (8: the passage's number and separators)
            text = _cut_to_tokens(gen, text, budget - used - 8)
            while text and prompt_tokens([*passages, text]) > budget:
                text = text[: int(len(text) * 0.9)]
            if not text.strip():
                break
            size = n_tokens(text)
        passages.append(text)
        kept.append(size)
        used += size + 8
        if text != doc.text.strip():
            break
    while passages and prompt_tokens(passages) > budget:  # joins merge
        last = passages[-1][: int(len(passages[-1]) * 0.9)]
        passages.pop(), kept.pop()
        if last.strip():
            passages.append(last)
            kept.append(n_tokens(last))
    return LongContext(passages, kept, sizes, [d.name for d in docs])


_DOC_TOKENS: OrderedDict[tuple[str, str], int] = OrderedDict()  # (tokenizer, text hash) → tokens, most recent last
_DOC_TOKENS_MAX = 4096
_DOC_TOKENS_LOCK = threading.Lock()


def document_tokens(tokenizer, texts: Sequence[str]) -> list[int]:
    """Tokens in each text, remembered by content hash: the long-context system and the Prompt page
    tokenise a whole corpus once, not on every question or rerun."""
    from core.runtime.workspace import content_hash

    who = f"{getattr(tokenizer, 'name_or_path', '')}|{len(tokenizer)}|{type(tokenizer).__name__}"
    out = []
    for text in texts:
        key = (who, content_hash(text))
        with _DOC_TOKENS_LOCK:
            n = _DOC_TOKENS.get(key)
            if n is not None:
                _DOC_TOKENS.move_to_end(key)
        if n is None:
            n = len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])
            with _DOC_TOKENS_LOCK:
                _DOC_TOKENS[key] = n
                while len(_DOC_TOKENS) > _DOC_TOKENS_MAX:
                    _DOC_TOKENS.popitem(last=False)
        out.append(n)
    return out


def _cut_to_tokens(gen, text: str, n: int) -> str:
    """The first ``n`` tokens of ``text``, cut at a token boundary."""
    if n <= 0:
        return ""
    offsets = gen.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)["offset_mapping"]
    return text[: offsets[min(n, len(offsets)) - 1][1]] if offsets else ""
