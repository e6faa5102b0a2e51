"""The training mix of the built-in model, built from the synthetic world (core.world).

* reading comprehension (60%): 1-4 passages cut from documents the way a
  retriever returns chunks (150-900 characters, at paragraph, sentence or
  word boundaries); one holds the answer, the others are distractors about
  other entities of the same kind. Entities are fresh *training-name* entities,
  so the answer can only come from the context.
* closed-book Q&A (20%) about a fixed pool of training entities, plus the
  world's GENERAL_FACTS (for a forgetting check).
* plain passages (20%): documents of the fixed pool as language-model text.
* copy drills (see ``copy_share``): a random word list and its repeat, so that
  copying ("induction") heads form; stage 2 ("reading") adds key-value lookups.

Every example is a list of ``(text, is_answer)`` segments; the loss weighs answers more.
Reading-comprehension examples may continue with 1-2 more user turns about other
facts stated in the same passages (more answer supervision per context token).
Reproducible: example ``i`` of buffer ``k`` depends only on ``(seed, k)``.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from core.world import templates as T
from recipes.tokenizer import BOS, EOS, apply_template
from core.llm.prompting import build_messages
from core.world import (GENERAL_FACTS, KINDS, VALUE_KINDS, Entity, WorldDoc, make_entity, make_value, place_word,
                        render_document)

# System-instruction variants the model is trained on (the defaults come first).
SYSTEM_RAG_VARIANTS = [
    None,  # DEFAULT_SYSTEM_RAG
    "Use the context to answer the question.",
    "You are a helpful assistant. Answer the question using only the context below.",
    "Answer the user's question from the passages.",
    "Read the passages and answer in one sentence.",
    "You are a helpful assistant.",
]
SYSTEM_BASE_VARIANTS = [
    None,  # DEFAULT_SYSTEM_BASE
    "You are a helpful assistant.",
    "Answer the question.",
    "You are a helpful assistant. Answer briefly.",
]
POOL_SEED = 424242
POOL_SIZE_PER_KIND = 80


@lru_cache(maxsize=2)
def training_pool(per_kind: int = POOL_SIZE_PER_KIND) -> tuple[list[Entity], list[WorldDoc]]:
    """The fixed training entities the model memorises closed-book (training names only)."""
    rng = random.Random(POOL_SEED)
    taken: set[str] = set()
    ents = [make_entity(rng, k, held_out=False, taken=taken) for _ in range(per_kind) for k in KINDS]
    docs = [render_document(e, rng) for e in ents]
    return ents, docs


# --- windows, like a retriever's chunks ---------------------------------------
def _units(text: str) -> list[str]:
    """Sentences and headings of a markdown document, each ending in its separator."""
    units: list[str] = []
    for para in text.strip().split("\n\n"):
        sents = [s for s in re.split(r"(?<=[.?!])\s+", para.strip()) if s]
        for i, s in enumerate(sents):
            units.append(s + (" " if i < len(sents) - 1 else "\n\n"))
    return units


def window(doc: WorldDoc, rng: random.Random, size: int, must_contain: str | None = None) -> str:
    """A ~``size``-character window of ``doc`` (containing ``must_contain`` if given)."""
    units = _units(doc.text)
    if must_contain is not None:
        idx = next((i for i, u in enumerate(units) if must_contain in u), 0)
    else:
        idx = rng.randrange(len(units))
    start, end = idx, idx + 1
    # grow left/right at random until the size is reached
    while sum(len(u) for u in units[start:end]) < size and (start > 0 or end < len(units)):
        if start > 0 and (end >= len(units) or rng.random() < 0.5):
            start -= 1
        else:
            end += 1
    text = "".join(units[start:end]).strip()
    style = rng.random()
    if style < 0.15 and must_contain is None and len(text) > 80:
        # character chunker: cut at word boundaries
        a = rng.randrange(0, len(text) // 3)
        text = text[text.find(" ", a) + 1:] if text.find(" ", a) >= 0 else text
    elif style < 0.35:
        text = re.sub(r"\n{2,}", "\n", text)  # chunkers that keep single newlines
    return text.strip()


def _qa_text(ent: Entity, attr: str, rng: random.Random) -> tuple[str, str]:
    _, _, questions, answer = T.ATTRS[ent.kind][attr]
    q = rng.choice(questions).format(name=ent.name)
    a = answer.format(name=ent.name, value=ent.facts[attr])
    return q, a[:1].upper() + a[1:]


Segments = list[tuple[str, bool]]


def rc_example(rng: random.Random, progress: float) -> Segments:
    kind = rng.choice(KINDS)
    taken: set[str] = set()
    max_passages = 2 if progress < 0.1 else 3 if progress < 0.3 else 4
    n = rng.randint(1, max_passages)
    max_size = 450 if progress < 0.1 else 700 if progress < 0.3 else 900
    ents = [make_entity(rng, kind, held_out=False, taken=taken) for _ in range(n)]
    docs = [render_document(e, rng) for e in ents]
    target, attr = ents[0], rng.choice(list(T.ATTRS[kind]))
    passages = [window(docs[0], rng, rng.randint(150, max_size), must_contain=docs[0].statements[attr])]
    for d in docs[1:]:
        hard = rng.random() < 0.6
        passages.append(window(d, rng, rng.randint(150, max_size), d.statements[attr] if hard else None))
    rng.shuffle(passages)
    q, a = _qa_text(target, attr, rng)
    msgs = build_messages(q, passages, rng.choice(SYSTEM_RAG_VARIANTS))
    segs = [(apply_template(msgs), False), (a + EOS, True)]
    answerable = [(e, at) for e, d in zip(ents, docs) for at in T.ATTRS[kind]
                  if (e, at) != (target, attr) and any(d.statements[at] in p for p in passages)]
    rng.shuffle(answerable)
    for e, at in answerable[: rng.choice([0, 0, 1, 1, 2, 2, 2])]:
        q2, a2 = _qa_text(e, at, rng)
        segs += [(f"<|user|>\n{q2}\n<|assistant|>\n", False), (a2 + EOS, True)]
    return segs


def closed_book_example(rng: random.Random) -> Segments:
    if rng.random() < 0.1:
        fact = rng.choice(GENERAL_FACTS)
        q, a = fact["question"], fact["answer"]
    else:
        ents, _ = training_pool()
        ent = rng.choice(ents)
        q, a = _qa_text(ent, rng.choice(list(T.ATTRS[ent.kind])), rng)
    msgs = build_messages(q, None, rng.choice(SYSTEM_BASE_VARIANTS))
    return [(apply_template(msgs), False), (a + EOS, True)]


def plain_example(rng: random.Random) -> Segments:
    _, docs = training_pool()
    if rng.random() < 0.05:
        text = " ".join(f["answer"] for f in rng.sample(GENERAL_FACTS, 3))
    else:
        text = rng.choice(docs).text
    return [(BOS + text.strip() + EOS, False)]


# Every closed word list a world value is drawn from. Words that only ever appear in one slot
# (capitalised colours in festival names, boss titles, street and studio suffixes) were the ones
# the model could not copy: it guessed them from the list instead (festival answers 0/8 on fresh
# worlds before they joined the drills).
DRILL_POOLS = [T.COLOURS, T.OBJECTS, T.FIRST_NAMES, T.LAST_NAMES, T.PROFESSIONS, T.FLOWERS, T.STREETS,
               T.TITLES, T.PRODUCT_KINDS, T.SHOP_SUFFIX, T.COMPANY_SUFFIX, T.STUDIO_SUFFIX]


def _drill_word(rng: random.Random) -> str:
    """A word of the world's closed lists, lower-case or Title Case (as values use them)."""
    word = rng.choice(rng.choice(DRILL_POOLS))
    return word.title() if rng.random() < 0.5 else word


def _world_value(rng: random.Random) -> str:
    """A value of a random kind, as documents state it (times, prices, festival names, addresses…)."""
    return make_value(rng, rng.choice(VALUE_KINDS))


def _drill_item(rng: random.Random) -> str:
    """A word or a world value (times, prices, populations, names), training side only."""
    r = rng.random()
    if r < 0.35:
        return _world_value(rng)
    if r < 0.55:
        return place_word(rng)
    return _drill_word(rng)


def copy_example(rng: random.Random) -> Segments:
    """A random list of world-like words, then the same list again (the repeat is the "answer").

    Pure copying is what reading needs first: these examples push the model to form
    induction ("look back and copy") heads.
    """
    words = []
    for _ in range(rng.randint(8, 40)):
        r = rng.random()
        if r < 0.25:
            words.append(str(rng.randint(1, 99999)))
        elif r < 0.45:
            words.append(place_word(rng))  # training side of the name split only
        elif r < 0.6:
            words.append(_world_value(rng))  # multi-token values
        else:
            words.append(_drill_word(rng))
    seq = " ".join(words)
    return [(f"{BOS}{seq}\n", False), (seq + EOS, True)]


def lookup_example(rng: random.Random) -> Segments:
    """Key-value lines, then one key: the answer is its value (find the name, copy what follows it).

    This is retrieval-then-copy in its barest form, the exact skill that answering
    from a passage needs.
    """
    n = rng.randint(2, 12)
    keys = list(dict.fromkeys(place_word(rng) for _ in range(n)))
    pairs = [(k_, _drill_item(rng)) for k_ in keys]
    key, value = rng.choice(pairs)
    sep = rng.choice([": ", " = ", " - "])
    lines = "\n".join(f"{k_}{sep}{v}" for k_, v in pairs)
    return [(f"{BOS}{lines}\n{key}?\n", False), (value + EOS, True)]


def copy_share(progress: float) -> float:
    """Stage 1's share of copy drills: a few early, then a burst mid-run (a 15% share did not make
    copying heads form in the first half of the shipped run), then a few again."""
    return 0.15 if progress < 0.25 else 0.05 if progress < 0.5 else 0.5 if progress < 0.6 else 0.1


def _pretrain_mix(rng: random.Random, progress: float) -> Segments:
    r = rng.random()
    if r < 0.6:
        return rc_example(rng, progress)
    if r < 0.8:
        return closed_book_example(rng)
    return plain_example(rng)


def is_drill(example: Segments) -> bool:
    """Copy and lookup drills: one prompt and one answer, no chat turns."""
    return len(example) == 2 and "<|assistant|>" not in example[0][0]


# Mixes of the one-run recipe (``python -m recipes.train``, the default ``--stage single``);
# the trainer moves from one to the next (see recipes.train.single_run_mix).
#   early:   the stage-1 mix with 15% copy drills (language first);
#   burst:   half drills (35% copy, 15% lookup) until copying heads form;
#   reading: the stage-2 mix, mostly reading comprehension at full length.
MIXES = ("early", "burst", "reading")


def sample_example(rng: random.Random, progress: float, stage: str = "pretrain") -> Segments:
    """One example of the mix. ``stage="reading"`` is mostly reading comprehension at full
    length, with key-value lookups among the drills and enough closed-book and plain text that
    the closed-book knowledge is kept. ``"pretrain"`` is the older two-stage recipe's first stage."""
    if stage == "reading":
        r = rng.random()
        if r < 0.04:
            return copy_example(rng)
        if r < 0.08:
            return lookup_example(rng)
        if r < 0.83:
            return rc_example(rng, 1.0)
        if r < 0.95:
            return closed_book_example(rng)
        return plain_example(rng)
    if stage == "burst":
        r = rng.random()
        if r < 0.35:
            return copy_example(rng)
        if r < 0.5:
            return lookup_example(rng)
        return _pretrain_mix(rng, progress)
    share = 0.15 if stage == "early" else copy_share(progress)
    if rng.random() < share:
        return copy_example(rng)
    return _pretrain_mix(rng, progress)


def example_buffer(seed: int, k: int, n: int, progress: float, stage: str = "pretrain") -> list[Segments]:
    """Buffer ``k`` of ``n`` examples (deterministic in ``seed``, ``k`` and ``stage``)."""
    rng = random.Random(f"lab-mix-{seed}-{k}" if stage in ("pretrain", "early") else f"lab-mix-{stage}-{seed}-{k}")
    return [sample_example(rng, progress, stage) for _ in range(n)]


def tokenizer_corpus(seed: int = 0, n: int = 12000) -> list[str]:
    """Texts for training the tokenizer: the full mix, rendered."""
    rng = random.Random(f"lab-tok-{seed}")
    out = []
    for _ in range(n):
        out.append("".join(t for t, _ in sample_example(rng, rng.random())))
    return out
