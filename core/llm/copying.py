"""Extractive ("copy") decoding: every answer token must continue a verbatim copy of a passage.

WHY: a small reader such as ``lab-english-reader`` usually starts its answer in the right
sentence of the passage, then drifts into pieces of other sentences. Constrained decoding keeps
what the model chose (which words to start with, when to stop) and removes the drift: at each
step only the tokens that extend a copy of some passage span may be picked, so the answer is a
substring of the retrieved text. The model still decides *where* to copy from: greedy decoding
takes its most likely allowed token. This is the extractive-QA idea (a span of the context is the
answer) done with a language model's own probabilities.

The constraint works on the prompt's own token ids, so no re-tokenisation can break a copy:

>>> c = CopyConstraint([5, 6, 7, 5, 8], starts=[0, 2, 3], ends={2}, variants={})
>>> sorted(c.allowed())           # a copy may start at a word start, never with end-of-text
[5, 7]
>>> c.advance(5); sorted(c.allowed())   # "5" is followed by 6 or by 8 in the passage
[2, 6, 8]
>>> c.advance(8); sorted(c.allowed())   # the end of the passage: only end-of-text is left
[2]
"""

from __future__ import annotations

from typing import Iterable, Sequence

import torch


class CopyConstraint:
    """Which next tokens keep the answer a verbatim copy of the source token positions.

    ``ids``: the prompt's token ids; ``starts``: the positions where a copy may begin (word
    starts inside the passages); ``ends``: end-of-text ids (allowed once something is copied);
    ``variants``: token id → the same word without its leading space (an answer's first word has
    none, while the passage's copy of it does).
    """

    def __init__(self, ids: Sequence[int], starts: Iterable[int], ends: set[int], variants: dict[int, int],
                 source: Iterable[int] | None = None, stops: Iterable[int] | None = None) -> None:
        self.ids = list(ids)
        self.stops = None if stops is None else set(stops)  # positions a copy may end before (None: anywhere)
        self.ends = set(ends)
        self.variants = variants
        self.source = set(range(len(self.ids))) if source is None else set(source)
        self.live = sorted(set(starts))  # positions of the token that the next copied token must match
        self.first = True

    def _matches(self, p: int, token: int) -> bool:
        return self.ids[p] == token or (self.first and self.variants.get(self.ids[p]) == token)

    def allowed(self) -> set[int]:
        """Token ids that may come next."""
        out = {self.ids[p] for p in self.live}
        if self.first:
            out |= {self.variants[self.ids[p]] for p in self.live if self.ids[p] in self.variants}
        elif self.stops is None or not self.live or any(p in self.stops for p in self.live):
            out |= self.ends
        return out

    def advance(self, token: int) -> None:
        """Record the picked ``token``: keep the copies it continues."""
        self.live = [p + 1 for p in self.live if self._matches(p, token) and p + 1 in self.source]
        self.first = False

    def mask(self, logits: torch.Tensor) -> torch.Tensor:
        """``logits`` with every disallowed token at -inf (unchanged if nothing would be left)."""
        allowed = sorted(t for t in self.allowed() if t < logits.numel())
        if not allowed:
            return logits
        keep = torch.full_like(logits, float("-inf"))
        index = torch.tensor(allowed, dtype=torch.long)
        keep[index] = 0.0
        return logits + keep


def _space_variants(tokenizer) -> dict[int, int]:
    """Token id → id of the same token without a leading space marker (byte-level BPE "Ġ", SentencePiece "▁")."""
    vocab = tokenizer.get_vocab()
    out = {}
    for token, i in vocab.items():
        for mark in ("Ġ", "▁"):
            if token.startswith(mark) and len(token) > 1 and token[1:] in vocab:
                out[i] = vocab[token[1:]]
    return out


_VARIANTS: dict[int, tuple[object, dict[int, int]]] = {}  # id(tokenizer) -> (weak reference, its variant map)


def _variants_of(tokenizer) -> dict[int, int]:
    """``_space_variants``, computed once per tokenizer (an evicted model's id may be reused: the reference tells)."""
    import weakref

    entry = _VARIANTS.get(id(tokenizer))
    if entry is None or entry[0]() is not tokenizer:
        for key in [k for k, (ref, _) in _VARIANTS.items() if ref() is None]:
            del _VARIANTS[key]
        entry = _VARIANTS[id(tokenizer)] = (weakref.ref(tokenizer), _space_variants(tokenizer))
    return entry[1]


def constraint_for(tokenizer, prompt_text: str, ids: Sequence[int], passages: Sequence[str],
                   ends: set[int], unit: str = "sentence") -> CopyConstraint | None:
    """The copy constraint for a prompt whose text holds ``passages``; None if they cannot be located.

    Passages are found in the rendered prompt by their text, then mapped to token positions
    through the tokenizer's character offsets.
    """
    spans = []
    for passage in passages:
        passage = passage.strip()
        at = prompt_text.find(passage) if passage else -1
        if at >= 0:
            spans.append((at, at + len(passage)))
    if not spans or not getattr(tokenizer, "is_fast", False):
        return None
    enc = tokenizer(prompt_text, add_special_tokens=False, return_offsets_mapping=True)
    offsets, text_ids = enc["offset_mapping"], enc["input_ids"]
    shift = len(ids) - len(text_ids)  # special tokens the prompt gets in front (BOS) ...
    if shift < 0:
        return None
    if list(ids[shift:]) != list(text_ids):
        if list(ids[:len(text_ids)]) != list(text_ids):  # ... or behind (an encoder's closing </s>)
            return None
        shift = 0
    bounds = _sentence_bounds(prompt_text, spans)
    source, starts, stops = set(), [], set()
    for j, (a, b) in enumerate(offsets):
        a += a < b - 1 and prompt_text[a] == " "  # byte-level BPE: a word's token carries the space before it
        if b > a and any(lo <= a and b <= hi for lo, hi in spans):
            source.add(j + shift)
            if unit == "sentence":
                if any(a <= lo < b for lo, _ in bounds):
                    starts.append(j + shift)
                if any(a < hi <= b for _, hi in bounds):
                    stops.add(j + shift + 1)
            # a word start: the token begins with a space or a line break, or right at a passage's start
            elif a in {lo for lo, _ in spans} or prompt_text[a - 1] in " \n([\"'":
                starts.append(j + shift)
    if not starts:
        return None
    return CopyConstraint(ids, starts, ends, _variants_of(tokenizer), source, stops if unit == "sentence" else None)


def _sentence_bounds(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, end) character offsets of every sentence inside the passage spans of ``text``."""
    from core.rag.chunking import sentence_spans

    out = []
    for lo, hi in spans:
        out += [(lo + a, lo + b) for a, b in sentence_spans(text[lo:hi])]
    return out
