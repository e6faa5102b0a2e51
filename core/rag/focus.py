"""Sentence focus: keep only the sentences of the retrieved chunks that best match the question.

WHY: retrieval finds the right *chunk* (~150 words), but a small reader loses its way in it: the
built-in English reader copies a sentence of the passage, and among ten sentences it often picks
the wrong one. Focus is extractive context compression (as in RECOMP, Xu et al. 2023): the chunks'
sentences are ranked against the question with the same two signals hybrid retrieval fuses
(embedding cosine and BM25, by reciprocal rank) and a third, the **answer type**: a "who" question
is answered by a sentence that names someone the question does not, a "how much" question by an
amount, a "when" question by a date or a time (the answer-type matching of classic QA sentence
selection; the spans are the question bank's, ``core.rag.spans``). Cosine and BM25 alone rank
"X is a family-run shop on Alder Street" first for "Who founded X?": it shares the most words. The
best ``n`` go into the prompt **in their document order**, so the prompt does not tell the reader which
one ranked first: choosing among them is still the reader's job. A model's profile sets ``n`` (``focus``
in its ``lab.json``; 0 = whole chunks); the Prompt and Answers pages show what was kept.

>>> split_sentences("Entry is free. Coffee costs 2 euros. Bring a mug!")
['Entry is free.', 'Coffee costs 2 euros.', 'Bring a mug!']
>>> sorted(asked_kinds("Who opened the museum, and in what year?"))
['when', 'who']
>>> answers_kind("It was opened in 1931 by Rupert Oakes.", {"who"}, "Who opened the observatory?")
True
>>> answers_kind("The Hilltop Observatory sits above Brenford.", {"who"}, "Who opened the Hilltop Observatory?")
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from core.errors import ConfigError

MAX_FOCUS = 20
# what a question asks for (its wording) -> the kinds of answer span (core.rag.spans) that answer it
ASKED = (
    (r"\bhow (?:much|expensive)\b|\bcosts?\b|\bprices?\b|\bfees?\b|\bcharged?\b|\bpay\b|\bdeposit\b", ("how much",)),
    (r"\bhow many\b|\bwhat (?:level|number|percentage)\b", ("how many", "how much", "what")),
    (r"\bhow (?:long|far ahead|quickly|soon)\b", ("how long",)),
    (r"\bwho(?:m|se)?\b|\bwhich person\b", ("who",)),
    (r"\bwhen\b|\bwhat (?:year|time|date|day)\b|\bwhich (?:year|day|month|date)\b|\buntil what\b", ("when",)),
    (r"\bwhere\b|\bwhich (?:place|town|city|village)\b", ("where",)),
)


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (the chunker's own boundaries, so headings and list items count as units)."""
    from core.rag.chunking import sentence_spans

    return [text[a:b].strip() for a, b in sentence_spans(text) if text[a:b].strip()]


def asked_kinds(question: str) -> set[str]:
    """The kinds of answer ``question`` asks for ("who", "when", "how much", …); empty when its wording does not say."""
    q = question.lower()
    return {kind for pattern, kinds in ASKED if re.search(pattern, q) for kind in kinds}


def answers_kind(sentence: str, kinds: set[str], question: str) -> bool:
    """``sentence`` holds a value of one of ``kinds`` that ``question`` does not already name."""
    from core.rag.spans import find_spans

    q = question.lower()
    return bool(kinds) and any(sp.kind in kinds and sentence[sp.start:sp.end].lower() not in q
                               for sp in find_spans(sentence))


@dataclass(frozen=True)
class Focused:
    """The focus of one question: the passage the reader gets and every candidate sentence's fate."""

    text: str  # the kept sentences, in document order, joined into one passage
    sentences: list[dict] = field(default_factory=list)  # {"text", "chunk", "rank", "cosine", "bm25", "typed", "kept"}

    @property
    def n_kept(self) -> int:
        return sum(s["kept"] for s in self.sentences)


def check_focus(n) -> int:
    """``n`` as a whole number of sentences, 0 (off) to MAX_FOCUS; ConfigError otherwise."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= int(n) <= MAX_FOCUS:
        raise ConfigError(f"focus must be a whole number of sentences from 0 (off) to {MAX_FOCUS} (got {n!r})")
    return int(n)


def focus(question: str, passages: Sequence[str], embedder, n: int) -> Focused:
    """The ``n`` sentences of ``passages`` that best match ``question`` (embedding cosine, BM25 and, when the
    question's wording names the kind of answer, the sentences that hold one, fused by reciprocal rank), kept
    in the order they appear in the passages."""
    from core.rag.index import BM25Index, rrf

    n = check_focus(n)
    # a markdown heading is a title, not a statement: as a candidate it would win on shared words and say nothing
    found, seen = [], set()
    for c, passage in enumerate(passages):
        for s in split_sentences(passage):
            if not s.startswith("#") and s not in seen:  # overlapping chunks repeat sentences: each counts once
                found.append((c, s))
                seen.add(s)
    if not found:
        return Focused("", [])
    texts = [s for _, s in found]
    vectors = embedder.encode([question, *texts])
    cosine = vectors[1:] @ vectors[0]
    bm25 = BM25Index(texts).scores(question)
    rankings = [list(np.argsort(-cosine, kind="stable")), [int(i) for i in np.argsort(-bm25, kind="stable") if bm25[i] > 0]]
    kinds = asked_kinds(question)
    typed = [answers_kind(s, kinds, question) for s in texts]
    if any(typed):  # a third vote, in the order the first two agree on: it lifts a typed sentence, never alone
        rankings.append([i for i, _ in rrf(rankings) if typed[i]])
    order = [int(i) for i, _ in rrf(rankings)]
    kept = set(order[:n]) if n else set(range(len(texts)))
    rank = {i: r for r, i in enumerate(order, start=1)}
    rows = [{"text": s, "chunk": c + 1, "rank": rank[i], "cosine": round(float(cosine[i]), 4),
             "bm25": round(float(bm25[i]), 3), "typed": typed[i], "kept": i in kept} for i, (c, s) in enumerate(found)]
    return Focused(" ".join(texts[i] for i in sorted(kept)), rows)
