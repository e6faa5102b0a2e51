"""Turning a sentence and an answer span into questions: cloze translation by rules, several wordings per fact.

WHY several wordings: a fact a model learns from one phrasing is often not extractable from another
(Allen-Zhu & Li 2023, "Physics of Language Models 3.1"); seen in varied phrasings it is. So every fact gets
its question in the forms these rules can make (Lewis et al. 2019's cloze translation, done by hand):

- **echo**: the clause with the value replaced by its question phrase ("The crossing takes how long?");
- **inverted**: an auxiliary moved to the front ("In which year was the service started?");
- **do-support**: a present-tense verb with "does" ("How much does a single ticket cost?");
- **agent**: the doer of a passive ("Who started the service in 1974?");
- **appositive**: a name that renames a noun phrase ("What is the Kestrel Bay Ferry's only vessel?");

then the same with other question words ("When" for "In which year") and with the document's topic in front.

>>> s = "A single ticket costs 4 euros, and a monthly pass costs 52 euros."
>>> from core.rag.spans import find_spans
>>> wordings(s, find_spans(s)[0], "the Kestrel Bay Ferry")[:2]
['How much does a single ticket cost?', 'A single ticket costs how much?']
"""

from __future__ import annotations

import re

from core.rag.spans import Span

AUX = ("is", "are", "was", "were", "has", "have", "had", "can", "could", "will", "would", "may", "must", "should")
DETERMINERS = frozenset("the a an its their his her our this that these those every each some any no".split())
NOT_VERBS = frozenset("is was has its his this us as always bus class less does glass gas plus news series".split())
SUBORDINATORS = frozenset("When If Because Although While Once Before After Unless Since".split())
STRANDED = frozenset("of with by named called from to for in on at".split())
HEDGES = frozenset("up to about over around nearly almost only just more than".split())
CLAUSE_CUT = re.compile(r",\s+(?:and|but|so|because|while|who|which|where)\s+|;\s+|\s+(?:and|but|so|because|while)\s+"
                        r"(?=(?:the|a|an|it|its|they|their|he|she|we|children)\b)")
SWAPS = [("in which year", "when"), ("at what time", "when"), ("what time", "when"), ("on which day", "when"),
         ("which day", "when"), ("how many", "what number of"), ("who", "which person"), ("how long", "for how long"),
         ("which place", "where"), ("how much", "what amount")]


def topic_of(text: str, name: str) -> str:
    """The document's topic, for "it" and "its" and for questions that name it: its first heading, else its name.

    >>> topic_of("# Kestrel Bay Ferry\\n\\nThe ferry…", "ferry.md")
    'the Kestrel Bay Ferry'
    """
    first = text.lstrip().split("\n", 1)[0]
    title = first.lstrip("#").strip() if first.startswith("#") else re.sub(r"[-_]+", " ", name.rsplit(".", 1)[0]).strip()
    if re.match(r"(?i)the\b", title):
        return "the" + title[3:]
    return f"the {title}" if len(title.split()) >= 2 and title.split()[-1][:1].isupper() else title


def subject_of(sentence: str) -> str:
    """The noun phrase a sentence starts with ("The main telescope is …" -> "the main telescope"), or ''.

    >>> subject_of("Today the ferry is run by a cooperative of eleven families.")
    'the ferry'
    """
    words = _adverbial(sentence)[0].split()
    for i, word in enumerate(words[:6]):
        if i >= 1 and (word.lower() in AUX or _is_verb(word)) and words[0].lower() in DETERMINERS - {"its", "their"}:
            return " ".join(_lower_first(words[:i])).strip(",")
    return ""


def resolve(sentence: str, topic: str) -> tuple[str, int]:
    """The sentence with a leading "It"/"Its" replaced by the topic, and how far that moved later offsets."""
    m = re.match(r"(It|Its|It's)\b", sentence)
    if not m or not topic:
        return sentence, 0
    head = topic[:1].upper() + topic[1:] + ("'s" if m.group(1) == "Its" else " is" if m.group(1) == "It's" else "")
    return head + sentence[m.end():], len(head) - m.end()


def clause(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The clause of ``sentence`` that holds ``[start, end)``: cut at conjunctions that start a new clause."""
    lo, hi = 0, len(sentence)
    for m in CLAUSE_CUT.finditer(sentence):
        if m.end() <= start:
            lo = m.end()
        elif m.start() >= end and hi == len(sentence):
            hi = m.start()
    return lo, hi


def answer_sentence(sentence: str, start: int, end: int, limit: int = 160) -> str:
    """The sentence (its clause when long) as a full answer that ends with a full stop."""
    lo, hi = (0, len(sentence)) if len(sentence) <= limit else clause(sentence, start, end)
    text = sentence[lo:hi].strip().rstrip(",;:")
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _cap(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,;:.?")
    return text[:1].upper() + text[1:] + "?" if text else ""


def _lower_first(words: list[str]) -> list[str]:
    if words and words[0] in ("The", "A", "An", "Its", "Their", "Entry", "Public") or (
            words and words[0][:1].isupper() and len(words) > 1 and words[1][:1].islower() and words[0].lower() in DETERMINERS):
        return [words[0].lower(), *words[1:]]
    if words and words[0][:1].isupper() and not (len(words) > 1 and words[1][:1].isupper()) and words[0] not in ("I",):
        return [words[0][:1].lower() + words[0][1:], *words[1:]] if words[0].lower() not in ("today",) else words
    return words


def _is_verb(word: str) -> bool:
    """A present-tense verb by its shape: lower-case, ends in one s ("costs", "carries"; not "pass")."""
    return word.islower() and word.endswith("s") and not word.endswith("ss") and word not in NOT_VERBS and len(word) > 3


def has_verb(text: str) -> bool:
    """Whether the words before a value hold a verb: without one the value sits inside the subject."""
    return any(w.lower() in AUX or _is_verb(w) or (w.islower() and w.endswith("ed") and len(w) > 4) for w in text.split())


def _lemma(verb: str) -> str:
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if re.search(r"(?:ch|sh|ss|x|z|o)es$", verb):
        return verb[:-2]
    return verb[:-1]


def _parts(sentence: str, span: Span) -> tuple[str, str, str]:
    """(clause before the value, the question phrase, the clause after the value and the words it takes)."""
    lo, hi = clause(sentence, span.start, span.end)
    before = sentence[lo:span.start]
    if span.prep and before.rstrip().lower().endswith(span.prep.lower()):
        before = before.rstrip()[: -len(span.prep)]
    subject = not re.sub(r"(?i)^the\s+$", "", before).strip()
    before = re.sub(r"(?i)\bthe\s+$", "", before) if span.ask.startswith(("which", "what")) else before
    after = sentence[span.end + span.consumed:hi]
    after = re.split(r",\s|\s(?:and|who|which)\s", after)[0]
    prep = span.prep.lower()
    ask = "what" if span.ask == "which" and subject else span.ask
    ask = f"{prep} {ask}" if prep and span.ask not in ("where", "how long") and prep not in ("every",) else ask
    if prep == "every":
        ask = "on which day"
    return before, ask, after


def _adverbial(before: str) -> tuple[str, str]:
    """A leading "In summer" or "Today" moved out of the subject's way: (rest, adverbial)."""
    m = re.match(r"(?:(In (?:summer|winter|spring|autumn|the morning|the evening))|Today|Now)\b,?\s*", before)
    if not m:
        return before, ""
    return before[m.end():], (m.group(0).strip(" ,").lower() if m.group(1) else "")


def echo(before: str, ask: str, after: str) -> str:
    return _cap(f"{before} {ask} {after}")


def fronted(before: str, ask: str, after: str) -> str:
    """Aux inversion or do-support; '' when the clause before the value has no verb these rules know."""
    rest, adverbial = _adverbial(before.strip())
    words = rest.split()
    if not words or "," in rest or words[0] in SUBORDINATORS or words[-1].lower() in STRANDED:
        return ""
    for i, word in enumerate(words[:6]):
        if word.lower() in AUX and i >= 1:
            subject, tail = _lower_first(words[:i]), words[i + 1:]
            while tail and tail[-1].lower() in HEDGES:
                tail = tail[:-1]
            if tail and (tail[0].lower() in DETERMINERS or tail[-1].lower() in STRANDED):
                return ""  # "is a refractor with a lens … wide", "run by a cooperative of": no clean inversion
            return _cap(" ".join([ask[:1].upper() + ask[1:], word.lower(), *subject, *tail, after, adverbial]))
    for i, word in enumerate(words[:6]):
        if (i >= 1 and _is_verb(word) and words[i - 1].lower() not in DETERMINERS | {"of", "to", "for", "and"}
                and not words[i - 1].endswith("'s") and not re.fullmatch(r"[\d,.]+", words[i - 1])):
            subject, tail = _lower_first(words[:i]), words[i + 1:]
            if "and" in tail:  # "picking starts in September and lasts [seven weeks]": the value is another verb's
                return ""
            while tail and tail[-1].lower() in HEDGES:
                tail = tail[:-1]
            return _cap(" ".join([ask, "does", *subject, _lemma(word), *tail, after, adverbial]))
        if i >= 1 and word.islower() and word.endswith("ed") and len(word) > 4 and words[i - 1].lower() not in DETERMINERS:
            subject, tail = _lower_first(words[:i]), words[i + 1:]
            stem = word[:-3] + "y" if word.endswith("ied") else word[:-2] + ("e" if word[-3] in "gcvzu" else "")
            return _cap(" ".join([ask, "did", *subject, stem, *tail, after, adverbial]))
    return ""


def agent(before: str, span: Span, after: str) -> str:
    """Who did what, from a passive: "X was started in 1974 by a builder named" -> "Who started X in 1974?"."""
    if span.kind != "who":
        return ""
    m = re.fullmatch(r"\s*(?P<subj>[^,]+?) (?P<aux>was|were|is|are) (?P<verb>\w+)(?P<mid>[^,]*?) by\b[^,]*?\s*",
                     before)
    if not m:
        return ""
    subject = " ".join(_lower_first(m.group("subj").split()))
    if m.group("aux") in ("was", "were") and m.group("verb").endswith("ed"):
        return _cap(f"Who {m.group('verb')} {subject}{m.group('mid')} {after}")
    return _cap(f"Who {m.group('aux')} {subject} {m.group('verb')}{m.group('mid')} by {after}")


def appositive(sentence: str, span: Span) -> str:
    """A name between commas that renames the noun phrase before it: "Its only vessel, the Silver Heron, …"."""
    m = re.search(r"(?:^|,\s)([^,]+),\s(?:the\s)?$", sentence[:span.start])
    if not m or not sentence[span.end:].startswith(","):
        return ""
    np = " ".join(_lower_first(m.group(1).split()))
    return _cap(f"{'Who' if span.kind == 'who' else 'What'} is {np}")


def swapped(question: str) -> str:
    """The question with another question word ('In which year' -> 'When'), or '' when none applies."""
    low = question.lower()
    for old, new in SWAPS:
        if low.startswith(old + " ") or f" {old} " in low:
            i = low.find(old)
            return _cap(question[:i] + new + question[i + len(old):])
    return ""


def wordings(sentence: str, span: Span, topic: str) -> list[str]:
    """Every question these rules can make for one span, most fluent first, no repeats."""
    before, ask, after = _parts(sentence, span)
    leading = fronted(after, ask, "") if not before.strip() and span.prep else ""  # "In 1999 a storm damaged …"
    forms = [agent(before, span, after), appositive(sentence, span), leading, fronted(before, ask, after),
             echo(before, ask, after)]
    forms = [f for f in forms if f]
    forms += [swapped(f) for f in forms]
    if topic and forms:
        forms.append(_cap(f"About {topic}: {forms[0][:1].lower()}{forms[0][1:]}"))
    seen, out = set(), []
    for form in forms:
        if form and form.lower() not in seen:
            seen.add(form.lower())
            out.append(form)
    return out
