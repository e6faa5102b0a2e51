"""A question bank from documents: facts found by rules, asked in several wordings, with honest splits.

Each item is one question about one fact, with the exact span that makes an answer right:
``document_text[start:end] == value``. Rows with ``split == "train"`` carry the wordings a fine-tune
learns from (``question`` and ``paraphrases``); rows with ``split == "heldout"`` ask a fact of a train
row in a wording that no train row uses, so a test of the adapter is a test of the fact, not of the
sentence it memorised (Allen-Zhu & Li 2023: knowledge is extractable when seen in varied phrasings).

>>> from core.rag.documents import Document
>>> doc = Document("d1", "ferry.md", "The crossing takes 25 minutes. A ticket costs 4 euros.", {})
>>> bank = make_bank([doc])
>>> [(i.kind, i.value, i.split) for i in bank.items][:2]
[('how long', '25 minutes', 'train'), ('how much', '4 euros', 'train')]
>>> i = bank.items[0]; doc.text[i.start:i.end] == i.value
True
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Sequence

from core.errors import ConfigError, DocumentError
from core.questions.phrasing import (
    _parts, answer_sentence, has_verb, resolve, subject_of, swapped, topic_of, wordings,
)
from core.rag.spans import find_spans

MAX_PER_DOC = 200
INSIDE = frozenset("of with by from to for in on at up than into under over".split())  # "The road up [X] is …"
STOP = frozenset("the a an of to and or in on at is are was were be by for with does do did what which who when "
                 "where how many much long time year day place number person about".split())


class NoSentences(DocumentError):
    """A document holds no sentence a question could be made from."""


@dataclass(frozen=True)
class BankConfig:
    per_doc: int = 20  # facts per document: enough for a workshop bank from a page of text, few enough to read
    paraphrases: int = 3  # training wordings per fact besides the question (the varied phrasings LoRA needs)
    heldout_share: float = 0.3  # facts that also get a held-out wording, never seen in training

    def __post_init__(self) -> None:
        for name in ("per_doc", "paraphrases"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name} must be a whole number (got {value!r})")
        if not 1 <= self.per_doc <= MAX_PER_DOC:
            raise ConfigError(f"per-doc must be from 1 to {MAX_PER_DOC} questions (got {self.per_doc})")
        if not 0 <= self.paraphrases <= 10:
            raise ConfigError(f"paraphrases must be from 0 to 10 (got {self.paraphrases})")
        if isinstance(self.heldout_share, bool) or not isinstance(self.heldout_share, (int, float)) \
                or not 0 <= self.heldout_share <= 1:
            raise ConfigError(f"heldout share must be from 0 to 1 (got {self.heldout_share!r})")


@dataclass(frozen=True)
class BankItem:
    """One question of the bank (one JSON line): see the module docstring for the split's meaning."""

    question: str
    answer: str  # a full sentence that holds the value: what a fine-tune learns to say
    value: str  # the exact span of the document that makes an answer right
    document: str  # the document's name
    start: int  # character offsets of value in the document's text
    end: int
    chunk: int | None  # index (within its document) of the first chunk, by the Lab's chunking, that holds the value
    kind: str  # who, when, where, how much, how many, how long, what
    split: str = "train"  # "train" | "heldout"
    paraphrases: tuple[str, ...] = ()  # more training wordings of the same question
    sentence: str = ""  # the document sentence the fact comes from

    def to_dict(self) -> dict:
        d = asdict(self)
        d["paraphrases"] = list(self.paraphrases)
        return d


@dataclass(frozen=True)
class Rejected:
    """A candidate the rules dropped, kept so the page can show why."""

    question: str
    value: str
    document: str
    rule: str


@dataclass(frozen=True)
class Bank:
    items: list[BankItem]
    rejected: list[Rejected] = field(default_factory=list)

    def train(self) -> list[BankItem]:
        return [i for i in self.items if i.split == "train"]


def content_words(question: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9']+", question.lower()) if w not in STOP]


def _candidates(doc, chunks) -> tuple[list[dict], list[Rejected]]:
    """Every fact of one document with its wordings, and the candidates a rule dropped."""
    from core.rag.chunking import sentence_spans

    topic, previous = topic_of(doc.text, doc.name), ""
    facts, rejected = [], []
    for a, b in sentence_spans(doc.text):
        raw = doc.text[a:b]
        if raw.startswith("#") or not re.search(r"[a-z]", raw):
            continue
        sentence, shift = resolve(raw, previous or topic)
        for span in find_spans(sentence):
            if shift and span.start < shift + 4:  # a span inside the words put in for "It"
                continue
            value, start = sentence[span.start:span.end], a + span.start - shift
            assert doc.text[start:start + len(value)] == value, (value, doc.text[start:start + len(value)])
            forms = wordings(sentence, span, topic)
            before = _parts(sentence, span)[0]
            rule = _rule(forms, value, before) or _about_topic(value, topic)
            if rule:
                rejected.append(Rejected(forms[0] if forms else "", value, doc.name, rule))
                continue
            facts.append({"forms": forms, "value": value, "start": start, "end": start + len(value), "kind": span.kind,
                          "answer": answer_sentence(sentence, span.start, span.end), "sentence": raw,
                          "chunk": _chunk_of(chunks, start, start + len(value))})
        previous = subject_of(raw) or previous
    return facts, rejected


def _rule(forms: list[str], value: str, before: str) -> str:
    """Why a candidate is dropped, or '' to keep it."""
    if not forms:
        return "no question form: the rules cannot ask about this span"
    if re.match(r"\s*(?:had|has|have|is|was|were|are)\b", before):
        return "in a relative clause: the words before the value have no subject"
    if before.strip() and before.split()[-1].lower() in INSIDE and not has_verb(before):
        return "inside the subject: the value names who or what the sentence is about"
    if value.lower() in forms[0].lower():
        return "copies its answer: the value is in the question"
    if len(content_words(forms[0])) < 2:
        return "too vague: fewer than two content words besides the question word"
    return ""


def _about_topic(value: str, topic: str) -> str:
    """A value that names the document's own topic (its title) is what every passage is about: a reader
    answers "the museum", not its full name, so the question tests wording, not the fact."""
    if value.lower() in topic.lower():
        return "names the document's topic: every passage is about it"
    return ""


def _chunk_of(chunks, start: int, end: int) -> int | None:
    for chunk in chunks or ():
        if chunk.start <= start and end <= chunk.end:
            return chunk.index
    return None


def _spread(facts: list[dict], n: int) -> list[dict]:
    """At most ``n`` facts, taken a kind at a time so one kind (say, numbers) does not fill the bank."""
    by_kind: dict[str, list[dict]] = {}
    for f in facts:
        by_kind.setdefault(f["kind"], []).append(f)
    picked: list[dict] = []
    while len(picked) < n and any(by_kind.values()):
        for group in by_kind.values():
            if group and len(picked) < n:
                picked.append(group.pop(0))
    return sorted(picked, key=lambda f: f["start"])


def _drop_ambiguous(facts: list[dict], rejected: list[Rejected], document: str) -> list[dict]:
    """Facts whose first question another fact also asks (different answers): none of them is kept."""
    seen: dict[str, set] = {}
    for f in facts:
        seen.setdefault(f["forms"][0].lower(), set()).add(f["value"].lower())
    kept = []
    for f in facts:
        if len(seen[f["forms"][0].lower()]) > 1:
            rejected.append(Rejected(f["forms"][0], f["value"], document, "ambiguous: another fact has the same question"))
        elif not any(k["forms"][0].lower() == f["forms"][0].lower() for k in kept):
            kept.append(f)
        else:
            rejected.append(Rejected(f["forms"][0], f["value"], document, "repeats a question already in the bank"))
    return kept


def make_bank(docs: Sequence, config: BankConfig = BankConfig(), chunks: Sequence | None = None,
              on_document=None) -> Bank:
    """The question bank of ``docs`` (``core.rag.documents.Document``); ``chunks`` (the Lab's chunking of the
    same documents) fill each item's ``chunk``. ``on_document(done, total)`` reports progress.

    Raises NoSentences when a document has no sentence to ask about, ConfigError for bad settings."""
    items, rejected, n_facts = [], [], 0
    for d, doc in enumerate(docs):
        mine = [c for c in chunks or () if c.doc_id == doc.id]
        if not has_sentence(doc.text):
            raise NoSentences(f"{doc.name} has no sentence to make a question from (it needs words, not only "
                              "numbers, symbols or headings).")
        facts, dropped = _candidates(doc, mine)
        rejected += dropped
        for f in _spread(_drop_ambiguous(facts, rejected, doc.name), config.per_doc):
            items += _rows(f, doc.name, n_facts, config)
            n_facts += 1
        if on_document:
            on_document(d + 1, len(docs))
    if not items:
        raise NoSentences(f"no question could be made from {', '.join(d.name for d in docs)}: the rules found no "
                          "names, numbers, dates, prices, places or durations to ask about.")
    return Bank(items, rejected)


def has_sentence(text: str) -> bool:
    """Whether ``text`` holds a sentence: three or more words with letters, outside a heading.

    >>> has_sentence("# Title"), has_sentence("12 34 56"), has_sentence("The boat leaves at six.")
    (False, False, True)
    """
    from core.rag.chunking import sentence_spans

    return any(len(re.findall(r"[A-Za-z]{2,}", text[a:b])) >= 3 for a, b in sentence_spans(text) if text[a] != "#")


def _rows(fact: dict, document: str, number: int, config: BankConfig) -> list[BankItem]:
    """The train row of one fact and, for a share of facts, its held-out row (a wording no train row uses)."""
    forms = fact["forms"]
    held = int((number + 1) * config.heldout_share) > int(number * config.heldout_share) and len(forms) >= 3
    # the first question with another question word ("When" for "In which year"), else the next form
    options = [f for f in (swapped(forms[0]), *forms[1:]) if f in forms[1:] and not f.startswith("About ")]
    heldout = options[0] if held and options else ""
    train = [f for f in forms if f != heldout]
    common = dict(answer=fact["answer"], value=fact["value"], document=document, start=fact["start"],
                  end=fact["end"], chunk=fact["chunk"], kind=fact["kind"], sentence=fact["sentence"])
    rows = [BankItem(train[0], paraphrases=tuple(train[1:1 + config.paraphrases]), **common)]
    if heldout:
        rows.append(BankItem(heldout, split="heldout", **common))
    return rows


def to_qa_items(items: Sequence[BankItem]) -> list:
    """The bank as the Lab's Q&A set (``QAItem``): what fine-tuning, retrieval metrics and evaluation read.
    The split, kind, offsets and chunk travel in ``extra``; the source sentence is the supporting text."""
    from core.rag.corpora import QAItem

    return [QAItem(i.question, i.answer, i.value, tuple(i.paraphrases), i.sentence, i.document,
                   {"split": i.split, "kind": i.kind, "start": i.start, "end": i.end, "chunk": i.chunk}) for i in items]


def training_items(qa: Sequence) -> list:
    """The rows a fine-tune may learn from: a bank's held-out wordings are for testing only."""
    return [q for q in qa if q.extra.get("split") != "heldout"]


def relocate(item: BankItem, text: str, chunks: Sequence = ()) -> BankItem:
    """An edited item with offsets that hold again: its value found in the document (nearest the old start),
    or start = end = -1 when the document no longer holds it."""
    import dataclasses

    if text[item.start:item.end] == item.value and item.value:
        return item
    found = [m.start() for m in re.finditer(re.escape(item.value), text)] if item.value else []
    if not found:
        return dataclasses.replace(item, start=-1, end=-1, chunk=None)
    start = min(found, key=lambda s: abs(s - item.start))
    end = start + len(item.value)
    mine = [c for c in chunks if c.doc_name == item.document]
    return dataclasses.replace(item, start=start, end=end, chunk=_chunk_of(mine, start, end) if mine else item.chunk)


def refresh_bank(items: Sequence[BankItem], docs: Sequence, config: BankConfig = BankConfig(),
                 chunks: Sequence | None = None) -> tuple[list[BankItem], list[str]]:
    """The bank after documents changed, remaking only what changed: a document whose every item still finds
    its value at its offsets and its sentence in the text keeps its items (edits included); the others are
    made again. Returns the items and the names of the documents remade.

    >>> from core.rag.documents import Document
    >>> old = make_bank([Document("d", "d.md", "A ticket costs 4 euros. The trip takes 25 minutes.", {})]).items
    >>> new, remade = refresh_bank(old, [Document("d", "d.md", "A ticket costs 5 euros. The trip takes 25 minutes.", {})])
    >>> remade, sorted({i.value for i in new})
    (['d.md'], ['25 minutes', '5 euros'])
    """
    texts = {d.name: d.text for d in docs}
    stale = {i.document for i in items if i.document in texts and (
        texts[i.document][i.start:i.end] != i.value or (i.sentence and i.sentence not in texts[i.document]))}
    fresh = [d for d in docs if d.name in stale or not any(i.document == d.name for i in items)]
    made = make_bank(fresh, config, chunks).items if fresh else []
    kept = [i for i in items if i.document in texts and i.document not in stale]
    order = [d.name for d in docs]
    return sorted(kept + made, key=lambda i: (order.index(i.document), i.start)), sorted(d.name for d in fresh)
