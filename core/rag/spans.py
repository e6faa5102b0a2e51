"""Answer spans by type: the facts a question can ask about, found by rules in one sentence.

WHY rules: the official spaCy English pipelines are not on the registry and the Lab runs offline, so the
spans are the kinds of facts people ask about in short prose (amounts of money, times, dates and years,
durations, measures, counts, names of people, places and things), each found by a pattern and typed by
the words around it. Each span carries the question phrase that asks for it ("how many passengers"),
the preposition it replaces ("in 1974" -> "in which year") and the question kind.

>>> s = "A single ticket costs 4 euros, and the crossing takes 25 minutes."
>>> [(sp.kind, s[sp.start:sp.end]) for sp in find_spans(s)]
[('how much', '4 euros'), ('how long', '25 minutes')]
>>> s = "It was opened in 1931 by the astronomer Rupert Oakes."
>>> [(sp.kind, s[sp.start:sp.end], sp.ask) for sp in find_spans(s)]
[('when', '1931', 'which year'), ('who', 'Rupert Oakes', 'who')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
NUMBER_WORDS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
                "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|hundred|thousand")
NUMBER = rf"(?<![-\w])(?:\d[\d,]*(?:\.\d+)?|\b(?:{NUMBER_WORDS})\b)(?!-)"
DURATION_UNITS = r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centuries)"
MEASURE_UNITS = (r"(?:millimetres?|centimetres?|metres?|kilometres?|millimeters?|centimeters?|meters?|kilometers?|"
                 r"miles?|feet|foot|inches?|grams?|kilograms?|kilos?|tonnes?|tons?|litres?|liters?|kg|km|cm|mm|m|g)")
CURRENCY = r"(?:euros?|dollars?|pounds?|cents?|pence|francs?|yen|kronor|krona)"
PLACE_WORDS = frozenset("Hill Island Bay Point Street Road Lane Square Park River Lake Valley Mountain Harbour Harbor "
                        "Station Bridge Town City Village Forest Beach Coast Port Bridge Avenue Green Field".split())
GROUP_WORDS = frozenset("Club Cooperative Company Society School Museum Library Council Association Trust Team Band "
                        "Group Institute University College Committee Church Hospital Observatory Ferry Centre "
                        "Center Bank Office Hotel Cafe Restaurant Shop Market Festival Foundation".split())
NOT_NAMES = frozenset(f"{MONTHS}|{DAYS}".split("|")) | frozenset(
    "The A An In On At It Its This That These Those He She They We You I Today Once When If But And Or Dogs".split())
PLACE_PREPS = ("in", "at", "on", "near", "from", "to", "of")


@dataclass(frozen=True)
class Span:
    """One candidate answer inside a sentence: ``sentence[start:end]`` is the value."""

    start: int
    end: int
    kind: str  # who, when, where, how much, how many, how long, what
    ask: str  # the question phrase: "which year", "how many passengers", "who"
    consumed: int = 0  # characters after the value that the question phrase takes ("passengers")
    prep: str = ""  # the preposition before the value that the question phrase takes ("in")


def find_spans(sentence: str) -> list[Span]:
    """Candidate answer spans of one sentence, without overlaps, in sentence order."""
    found: list[Span] = []
    for finder in (_money, _times, _dates, _durations, _measures, _labels, _counts, _names):
        for span in finder(sentence):
            if not any(span.start < o.end and o.start < span.end for o in found):
                found.append(span)
    return sorted(found, key=lambda s: s.start)


def _prep_before(sentence: str, start: int, preps=PLACE_PREPS) -> str:
    m = re.search(r"\b(\w+)\s+$", sentence[:start])
    return m.group(1) if m and m.group(1).lower() in preps else ""


def _money(s: str):
    pattern = rf"[$£€]\s?\d[\d,]*(?:\.\d+)?|\b{NUMBER} {CURRENCY}\b"
    for m in re.finditer(pattern, s):
        yield Span(m.start(), m.end(), "how much", "how much")


def _times(s: str):
    for m in re.finditer(r"\b\d{1,2}:\d\d(?:\s?[ap]\.?m\.?)?|\b\d{1,2}\s?[ap]\.m\.", s):
        yield Span(m.start(), m.end(), "when", "what time", prep=_prep_before(s, m.start(), ("at", "by", "until")))


def _dates(s: str):
    days = rf"\b(?:(?:first|second|third|fourth|last) )?(?:{DAYS})s?(?: of (?:{MONTHS}))?\b"
    for m in re.finditer(rf"\b(?:{MONTHS}) \d{{1,2}}(?:, \d{{4}})?\b|\b\d{{1,2}} (?:{MONTHS})(?: \d{{4}})?\b|{days}", s):
        yield Span(m.start(), m.end(), "when", "which day", prep=_prep_before(s, m.start(), ("on", "every", "each")))
    for m in re.finditer(r"\b(?:1[5-9]|20)\d\d\b(?!\s*(?:euros?|dollars?|:))", s):
        yield Span(m.start(), m.end(), "when", "which year", prep=_prep_before(s, m.start(), ("in", "since", "by")))


def _durations(s: str):
    for m in re.finditer(rf"\b{NUMBER} {DURATION_UNITS}\b", s, flags=re.I):
        yield Span(m.start(), m.end(), "how long", "how long", prep=_prep_before(s, m.start(), ("for",)))


def _measures(s: str):
    for m in re.finditer(rf"\b{NUMBER}\s?{MEASURE_UNITS}\b", s):
        unit = m.group(0).split()[-1] if " " in m.group(0) else re.sub(r"^[\d.,]+", "", m.group(0))
        yield Span(m.start(), m.end(), "how much", f"how many {unit}")


def _labels(s: str):
    """A numbered label: "force 7", "platform 2", "room 12"."""
    for m in re.finditer(r"\b(?:force|level|grade|platform|gate|room|route|line|bus|track|size|lock|pier|berth) \d+\b", s):
        yield Span(m.start(), m.end(), "what", "what")


def _counts(s: str):
    """A number and the noun it counts: the value is the number, the question keeps the noun."""
    for m in re.finditer(rf"\b({NUMBER})((?: [a-z]+)?? (?:[a-z]+s|people|children|men|women|sheep|fish))\b", s):
        noun = m.group(2).strip()
        if re.fullmatch(r"[a-z]+ (?:of|and|or|to|in|at|on)s?", noun) or noun.split()[0] in ("is", "was", "and"):
            noun = noun.split()[-1]
        yield Span(m.start(1), m.end(1), "how many", f"how many {noun}", consumed=len(m.group(2)))


def _names(s: str):
    """Capitalised names not at the sentence start: people (who), places (where), groups and things (what)."""
    for m in re.finditer(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+){0,4}\b", s):
        words = m.group(0).split()
        while words and words[0] in NOT_NAMES:
            words = words[1:]
        if not words:
            continue
        start = m.end() - len(" ".join(words))
        if start == 0 or re.search(r"[.!?:]\s*$", s[:start]):  # a sentence's first word: capitalised anyway
            continue
        if re.match(r"\s(?:station|street|road|harbour|school|hall|church|market|bridge|airport|square)\b", s[m.end():]):
            continue  # a name that modifies a noun ("Brenford station"): the place is the noun, not the name
        before = s[:start].rstrip().split()[-1:] or [""]
        the = before[0].lower() == "the"
        prep = _prep_before(s, start, PLACE_PREPS[:-1])  # "of X" stays in the question: "the town of which place"
        if words[-1] in GROUP_WORDS:
            kind, ask = "who" if words[-1] in ("Club", "Cooperative", "Society", "Team", "Committee", "Council") else "what", "which"
        elif words[-1] in PLACE_WORDS or (prep and prep != "of" and not the and len(words) == 1):
            kind, ask = "where", "where" if prep in ("in", "at", "on", "near") else "which place"
        elif len(words) >= 2 and not the:
            kind, ask = "who", "who"
        else:
            kind, ask = "what", "what"
        if kind == "where" and ask == "where":
            yield Span(start, m.end(), kind, ask, prep=prep)
        else:
            yield Span(start, m.end(), kind, ask)
