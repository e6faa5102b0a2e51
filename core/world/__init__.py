"""The Lab's synthetic world: invented entities, their facts, and documents about them.

Everything is reproducible from a seed. Entity names are split deterministically
(by a hash of the name) into *training* names, which the built-in model was
trained on, and *held-out* names, which it never saw: ``generate_world(seed)``
returns held-out entities by default, so the model can only know their facts
from context (RAG) or from a fine-tune (LoRA).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from core.world import templates as T
from core.world.templates import GENERAL_FACTS

__all__ = [
    "GENERAL_FACTS", "KINDS", "VALUE_KINDS", "Entity", "WorldDoc", "World", "is_held_out", "make_entity",
    "make_value", "place_word", "render_document", "entity_qa", "generate_world", "write_world",
]

KINDS = list(T.ATTRS)
HELD_OUT_SHARE = 5  # one name in five is held out


_SHARED_WORDS = {w for group in (T.SHOP_SUFFIX, T.GAME_PREFIX, T.PRODUCT_KINDS, T.COMPANY_SUFFIX,
                                   T.STUDIO_SUFFIX, T.STREETS, T.FIRST_NAMES) for p in group for w in p.split()}


def _word_held_out(word: str) -> bool:
    return hashlib.md5(word.lower().encode()).digest()[0] % HELD_OUT_SHARE == 0


_FIRST, _LAST = set(T.FIRST_NAMES), set(T.LAST_NAMES)


def _is_person_name(name: str) -> bool:
    words = name.split()
    return len(words) == 2 and words[0] in _FIRST and words[1] in _LAST


def is_held_out(name: str) -> bool:
    """True when ``name`` belongs to the held-out part of the name space (never trained on).

    The split is on the distinctive words of a name (invented place words like "Thornbury"):
    about one in five is held out, and a held-out word never appears anywhere in the training
    data, neither in a name nor in a value. People are split on the full name instead: there
    are only a few dozen last names, and a model that never saw a held-out last name's tokens
    cannot read it (measured: 64% vs 99% on otherwise identical profiles), which would test
    the tokens, not the reading. "Quinn Yardley" is held out; "Quinn" and "Yardley" are not.
    """
    if _is_person_name(name):
        return _word_held_out(name)
    return any(_word_held_out(w) for w in name.split() if w not in _SHARED_WORDS)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class Entity:
    name: str
    kind: str
    facts: dict[str, str]

    @property
    def slug(self) -> str:
        return slugify(self.name)


@dataclass
class WorldDoc:
    name: str  # file name, e.g. "thornbury-blooms.md"
    text: str
    entity: str = ""
    # attribute -> the sentence stating it in ``text`` (lets callers find the relevant window)
    statements: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    seed: int
    entities: list[Entity]
    documents: list[WorldDoc]
    qa: list[dict]


# --- names and values --------------------------------------------------------
def place_word(rng: random.Random, held_out: bool = False) -> str:
    """An invented place word on the requested side of the split (also the built-in model's drill vocabulary)."""
    while True:
        word = (rng.choice(T.SYL_START) + rng.choice(T.SYL_MID) + rng.choice(T.SYL_END)).capitalize()
        if _word_held_out(word) == held_out:
            return word


def _person(rng: random.Random, held_out: bool = False) -> str:
    while True:
        name = f"{rng.choice(T.FIRST_NAMES)} {rng.choice(T.LAST_NAMES)}"
        if _word_held_out(name) == held_out:
            return name


def _entity_name(rng: random.Random, kind: str, held_out: bool) -> str:
    base = place_word(rng, held_out)
    if kind == "flower_shop":
        return f"{base} {rng.choice(T.SHOP_SUFFIX)}"
    if kind == "video_game":
        return f"{rng.choice(T.GAME_PREFIX)} {base}"
    if kind == "product":
        return f"{base} {rng.choice(T.PRODUCT_KINDS)}"
    if kind == "person":
        return _person(rng, held_out)
    if kind == "town":
        return base
    if kind == "company":
        return f"{base} {rng.choice(T.COMPANY_SUFFIX)}"
    raise ValueError(f"unknown kind {kind!r}")


# value kind -> generator. Names in values are always training-side; the spaces are large
# so that a closed-book guess is right < 5% of the time.
_VALUES = {
    "time": lambda r: f"{r.randint(5, 11)}:{r.randrange(0, 60, 5):02d} am",
    "person": _person,
    "price": lambda r: f"${r.randint(2, 189)}.{r.randrange(0, 100, 5):02d}",
    "bouquet": lambda r: f"{r.choice(T.COLOURS)} {r.choice(T.FLOWERS)}",
    "address": lambda r: f"{r.randint(1, 299)} {place_word(r)} {r.choice(T.STREETS)}",
    "year": lambda r: str(r.randint(1850, 2024)),
    "boss": lambda r: f"{r.choice(T.FIRST_NAMES)} the {r.choice(T.TITLES)}",
    "level": lambda r: str(r.randint(20, 250)),
    "item": lambda r: f"{r.choice(T.COLOURS)} {r.choice(T.OBJECTS)}",
    "studio": lambda r: f"{place_word(r)} {r.choice(T.STUDIO_SUFFIX)}",
    "grams": lambda r: f"{r.randint(150, 4999)} grams",
    "colour": lambda r: "{} with {} trim".format(*r.sample(T.COLOURS, 2)),
    "months": lambda r: f"{r.randint(6, 72)} months",
    "profession": lambda r: r.choice(T.PROFESSIONS),
    "town": place_word,
    "petname": lambda r: r.choice(T.SYL_START).capitalize() + r.choice(
        ["o", "y", "ie", "a", "us", "kin", "bert", "wick"]),
    "population": lambda r: f"{r.randint(800, 250000):,}",
    "festival": lambda r: f"{r.choice(T.COLOURS).capitalize()} {r.choice(T.OBJECTS).title()} Festival",
    "river": lambda r: f"River {place_word(r)}",
    "days": lambda r: f"{r.randint(12, 45)} days",
    "password": lambda r: f"{r.choice(T.COLOURS)}-{r.choice(T.OBJECTS).replace(' ', '-')}-{r.randint(10, 99)}",
}


VALUE_KINDS = tuple(_VALUES)  # every kind of value a fact can have: time, price, person, address…


def make_value(rng: random.Random, vkind: str) -> str:
    """A fresh value of one kind, training side of the name split (``make_value(rng, "time")`` → ``'9:35 am'``)."""
    if vkind not in _VALUES:
        raise ValueError(f"unknown value kind {vkind!r}")
    return _VALUES[vkind](rng)


def make_entity(rng: random.Random, kind: str, held_out: bool, taken: set[str] | None = None) -> Entity:
    """A fresh entity of ``kind`` whose name is on the requested side of the split."""
    taken = taken if taken is not None else set()
    for _ in range(10_000):
        name = _entity_name(rng, kind, held_out)
        if name not in taken:
            break
    else:  # pragma: no cover - the name space is large
        raise RuntimeError("name space exhausted")
    taken.add(name)
    facts = {attr: make_value(rng, spec[0]) for attr, spec in T.ATTRS[kind].items()}
    return Entity(name=name, kind=kind, facts=facts)


# --- documents -------------------------------------------------------------
def _statement(rng: random.Random, ent: Entity, attr: str) -> str:
    return rng.choice(T.ATTRS[ent.kind][attr][1]).format(name=ent.name, value=ent.facts[attr])


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def render_document(ent: Entity, rng: random.Random) -> WorldDoc:
    """A markdown FAQ, handbook or guide stating every fact of ``ent`` once."""
    attrs = list(T.ATTRS[ent.kind])
    rng.shuffle(attrs)
    statements = {a: _cap(_statement(rng, ent, a)) for a in attrs}
    flavour = list(T.FLAVOUR[ent.kind])
    rng.shuffle(flavour)
    title = rng.choice(T.TITLES_BY_KIND[ent.kind]).format(name=ent.name)
    style = rng.choice(["faq", "sections", "prose"])
    lines = [f"# {title}", ""]
    if style == "faq":
        lines += [f"This page answers common questions about {ent.name}. {flavour.pop()}", ""]
        for a in attrs:
            q = rng.choice(T.ATTRS[ent.kind][a][2]).format(name=ent.name)
            body = statements[a] + (f" {flavour.pop()}" if flavour and rng.random() < 0.4 else "")
            lines += [f"## {q}", "", body, ""]
    else:
        secs = rng.sample(T.SECTIONS, 3 if style == "sections" else 2)
        groups = [attrs[i::len(secs)] for i in range(len(secs))]
        for sec, group in zip(secs, groups):
            lines += [f"## {sec}", ""]
            sents = [statements[a] for a in group]
            if flavour:
                sents.insert(rng.randrange(len(sents) + 1), flavour.pop())
            if style == "prose" and len(sents) > 2:
                lines += [" ".join(sents[:2]), "", " ".join(sents[2:]), ""]
            else:
                lines += [" ".join(sents), ""]
    text = "\n".join(lines).strip() + "\n"
    return WorldDoc(name=f"{ent.slug}.md", text=text, entity=ent.name, statements=statements)


def entity_qa(ent: Entity, rng: random.Random, document: str | None = None) -> list[dict]:
    """One row per fact: question, answer, value, paraphrases, document."""
    rows = []
    for attr, (_, _, questions, answer) in T.ATTRS[ent.kind].items():
        qs = [q.format(name=ent.name) for q in questions]
        rng.shuffle(qs)
        rows.append({
            "question": qs[0],
            "answer": _cap(answer.format(name=ent.name, value=ent.facts[attr])),
            "value": ent.facts[attr],
            "paraphrases": qs[1:],
            "document": document or f"{ent.slug}.md",
            "entity": ent.name,
            "attribute": attr,
        })
    return rows


def generate_world(seed: int, n_entities: int = 12, held_out: bool = True) -> World:
    """A reproducible world of ``n_entities`` entities (held-out names by default)."""
    rng = random.Random(f"lab-world-{seed}")
    kinds = [KINDS[i % len(KINDS)] for i in range(n_entities)]
    rng.shuffle(kinds)
    taken: set[str] = set()
    entities = [make_entity(rng, k, held_out, taken) for k in kinds]
    docs = [render_document(e, rng) for e in entities]
    qa = [row for e, d in zip(entities, docs) for row in entity_qa(e, rng, d.name)]
    return World(seed=seed, entities=entities, documents=docs, qa=qa)


def write_world(world: World, out_dir: Path) -> None:
    """Write ``out_dir/docs/*.md``, ``out_dir/qa.jsonl`` (one row per fact) and, unless one is there,
    ``out_dir/corpus.json`` (marks the folder as a 🧪 world corpus the built-in model reads)."""
    out_dir = Path(out_dir)
    (out_dir / "docs").mkdir(parents=True, exist_ok=True)
    meta = out_dir / "corpus.json"
    if not meta.exists():
        meta.write_text(json.dumps({"title": f"Synthetic world (seed {world.seed})", "builtin_model_reads": True,
                                    "kind": "world", "seed": world.seed}, indent=2) + "\n", encoding="utf-8")
    for doc in world.documents:
        (out_dir / "docs" / doc.name).write_text(doc.text, encoding="utf-8")
    with open(out_dir / "qa.jsonl", "w", encoding="utf-8") as fh:
        for row in world.qa:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


# --- rewriting a corpus (the paper's FT-par: the same facts in other words) ----------------

def entities_from_qa(rows: Sequence) -> list[Entity]:
    """The world entities a Q&A set is about, rebuilt from its rows (``entity``, ``attribute``, ``value``).

    Works on QAItems or dicts; rows without those fields are skipped. The kind is the one whose
    attribute list matches the rows' attributes.
    """
    facts: dict[str, dict[str, str]] = {}
    for row in rows:
        extra = row if isinstance(row, dict) else {**row.extra, "value": row.value}
        name, attr, value = extra.get("entity"), extra.get("attribute"), extra.get("value")
        if name and attr and value:
            facts.setdefault(str(name), {})[str(attr)] = str(value)
    out = []
    for name, found in facts.items():
        kind = next((k for k in KINDS if set(T.ATTRS[k]) == set(found)), None)
        if kind is not None:
            out.append(Entity(name=name, kind=kind, facts=found))
    return out


def rewrite_documents(rows: Sequence, n: int, seed: int = 0) -> dict[str, str]:
    """``n`` rewrites of each entity's document: the same facts, other sentence shapes, order and layout.

    Keys are ``"{slug}.md#rewrite{i}"``. This is Ovadia et al.'s "paraphrased documents" for
    the world corpora: the generator writes each fact with a different template each time.

    >>> rows = [{"entity": "Ada Vance", "attribute": a, "value": v} for a, v in
    ...         [("born", "1990"), ("city", "Ostrum"), ("job", "a baker"), ("pet", "a cat"), ("charm", "a red key")]]
    >>> len(rewrite_documents(rows, 2)) in (0, 2)   # 2 when these attributes make a known kind
    True
    """
    out = {}
    for ent in entities_from_qa(rows):
        for i in range(1, n + 1):
            doc = render_document(ent, random.Random(f"rewrite-{seed}-{ent.name}-{i}"))
            out[f"{doc.name}#rewrite{i}"] = doc.text
    return out
