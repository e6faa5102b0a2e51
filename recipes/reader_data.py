"""Reading-comprehension examples for the English reader, made by rules from real English text.

No model writes the questions: following Lewis et al. 2019 ("Unsupervised Question Answering
by Cloze Translation") a sentence with an answer span (an amount of money, a time, a date or
year, a number, a capitalised name, else a short noun phrase) is turned into a wh-question by
removing the span and putting a question word in front. The question keeps most of the
sentence's words, like a reader's question that "shares some words with the passage". The
target is the evidence sentence itself, copied from the passage: the Lab scores an answer by
whether it *contains* the fact, and copying the sentence that holds it is the skill that pays.

The text is real English that a Debian machine ships offline (never committed to the repo):
Python's documentation sources (``python3.11-doc``), the Debian Administrator's Handbook
(``debian-handbook``, English pages), the licence texts in ``/usr/share/common-licenses`` and the
README/licence files of installed Python packages.

>>> s = "Annual membership costs 35 euros and includes two free repairs."
>>> [(k, s[a:b]) for k, a, b in answer_spans(s)][:2]
[('money', '35 euros'), ('number', 'two free')]
>>> question_for(s, 24, 32, "money", random.Random(0))
'What is the price of annual membership costs and includes two free repairs?'
"""

from __future__ import annotations

import glob
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

from core.llm.prompting import build_messages

HELD_OUT_DIR = Path(__file__).resolve().parents[1] / "sample_data" / "heldout_prose"
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty|fifty|hundred"
SPAN_PATTERNS = [  # (kind, pattern, question words): the first kinds are the ones readers ask about most
    ("money", r"[$£€]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)? (?:euros?|dollars?|pounds?|cents?|pence)\b",
     ["How much", "What is the price of", "How much does it cost for"]),
    ("time", r"\b\d{1,2}(?::\d\d)?\s?(?:[ap]\.?m\.?)|\b\d{1,2}:\d\d\b", ["What time", "When", "By what time"]),
    ("date", rf"\b(?:{MONTHS}) \d{{1,2}}(?:, \d{{4}})?\b|\b\d{{1,2}} (?:{MONTHS})(?: \d{{4}})?\b|\b(?:1[6-9]|20)\d\d\b",
     ["When", "In what year", "On what date"]),
    ("number", rf"\b\d[\d,]*(?:\.\d+)?(?:%| per ?cent)?(?: [a-z]+)?|\b(?:{NUMBER_WORDS})\b(?: [a-z]+)?",
     ["How many", "How long", "What number of"]),
    ("name", r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?: [A-Z][a-z]+){0,3}\b", ["Who", "What", "Which"]),
]
QUESTION_STOP = frozenset("the a an of to and or in on at is are be".split())
CLOSED_BOOK_SHARE = 0.1  # examples without passages: the format LoRA later teaches facts in


@dataclass(frozen=True)
class Example:
    messages: list[dict]  # build_messages(...) — the Lab's own prompt
    answer: str  # the assistant's reply: the evidence sentence, copied


def answer_spans(sentence: str) -> list[tuple[str, int, int]]:
    """Candidate answer spans ``(kind, start, end)``, most useful kinds first, without overlaps."""
    taken: list[tuple[int, int]] = []
    spans = []
    for kind, pattern, _ in SPAN_PATTERNS:
        for m in re.finditer(pattern, sentence):
            a, b = m.span()
            if b - a < 2 or any(a < y and x < b for x, y in taken):
                continue
            taken.append((a, b))
            spans.append((kind, a, b))
    return spans


def question_for(sentence: str, start: int, end: int, kind: str, rng: random.Random) -> str:
    """The sentence as a wh-question: the span removed, a question word in front, sometimes shortened."""
    words = {k: w for k, _, w in SPAN_PATTERNS}.get(kind, ["What"])
    rest = (sentence[:start] + " " + sentence[end:]).strip()
    rest = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s+", " ", rest)).strip(" .;:!?,")
    tokens = rest.split()
    if tokens and not re.match(r"[A-Z][a-z]+ [A-Z]", rest) and tokens[0] not in {"I"}:
        tokens[0] = tokens[0][:1].lower() + tokens[0][1:]
    if len(tokens) > 8 and rng.random() < 0.5:  # a reader asks about the part around the answer
        centre = len(sentence[:start].split())
        lo = max(0, centre - rng.randint(3, 8))
        tokens = tokens[lo:lo + rng.randint(5, 12)]
    if rng.random() < 0.3:  # drop some small words: questions are not sentences with a hole
        tokens = [t for t in tokens if t.lower() not in QUESTION_STOP or rng.random() < 0.5]
    return f"{rng.choice(words)} {' '.join(tokens)}?"


def clause_around(sentence: str, start: int, end: int, max_chars: int = 150) -> str:
    """The sentence, or when longer than ``max_chars`` the clauses around the span (an answer fits 48 tokens).

    >>> clause_around("Members pay 35 euros a year, which includes repairs, tools and a locker.", 12, 20, 40)
    'Members pay 35 euros a year'
    """
    if len(sentence) <= max_chars:
        return sentence
    cuts = [0] + [m.end() for m in re.finditer(r"[,;:]\s|\s(?:and|but|which|while)\s", sentence)] + [len(sentence)]
    lo = max(c for c in cuts if c <= start)
    hi = min(c for c in cuts if c >= end)
    while hi - lo < max_chars // 2 and hi < len(sentence):  # too short alone: take the next clause too
        hi = min(c for c in cuts if c > hi)
    return sentence[lo:hi].strip(" ,;:").rstrip() if hi - lo <= max_chars * 1.5 else sentence[max(0, start - 60):end + 60]


def short_answer(sentence: str, start: int, end: int, before: int = 6, after: int = 3) -> str:
    """The span with the few words that lead to it in its clause (as readers answer: "costs 35 euros").

    A short target is a short copy: the reader starts where the question's words sit in the passage and
    stops soon after the fact, so there are few tokens in which to drift into another sentence.

    >>> s = "Members pay 35 euros a year, which includes repairs, tools and a locker."
    >>> short_answer(s, 12, 20)
    'Members pay 35 euros a year.'
    >>> short_answer("Birch Meadow is reserved for quiet camping and nothing else.", 0, 12)
    'Birch Meadow is reserved for.'
    """
    head = re.split(r"[,;:()]\s|\s(?:and|but|which|while|so)\s", sentence[:start])[-1].split()[-before:]
    tail = re.split(r"[,;:.!?()]", sentence[end:])[0].split()[:after]
    text = " ".join(head + [sentence[start:end]] + tail).strip(" ,;:")
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def keyword_question(sentence: str, start: int, end: int, kind: str, rng: random.Random) -> str:
    """A terse question from the content words nearest the span ("How much yearly membership cost?"): readers'
    questions share a few words with the passage, not the whole sentence."""
    words = {k: w for k, _, w in SPAN_PATTERNS}.get(kind, ["What"])
    left = [w for w in re.findall(r"[\w'-]+", sentence[:start]) if w.lower() not in QUESTION_STOP][-rng.randint(2, 4):]
    right = [w for w in re.findall(r"[\w'-]+", sentence[end:]) if w.lower() not in QUESTION_STOP][:rng.randint(0, 2)]
    return f"{rng.choice(words)} {' '.join(left + right)}?"


def sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", paragraph) if s.strip()]


def _clean_rst(text: str) -> list[str]:
    """Prose paragraphs of a reStructuredText/Markdown/plain file: no code, directives or headings."""
    text = re.sub(r":[a-z:]+:`~?!?([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)  # :func:`len` -> len
    text = re.sub(r"`+([^`]+?)`+_?", r"\1", text)
    text = re.sub(r"\*\*?([^*]+)\*\*?", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    out = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if not lines or lines[0].startswith((" ", "\t", "..", ">>>", "#", "|", "=", "-", "*", "+")):
            continue
        para = " ".join(ln.strip() for ln in lines)
        letters = sum(c.isalpha() or c == " " for c in para)
        if 80 <= len(para) <= 1200 and letters > 0.85 * len(para) and para[-1] in ".!?:)":
            out.append(para.rstrip(":") + ("." if para.endswith(":") else ""))
    return out


def _html_paragraphs(html: str) -> str:
    """The paragraphs (``<p>``, or Publican's ``<div class="para">``) of an HTML page as plain text."""
    import html as html_lib

    paras = [re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", "", p))).strip()
             for p in re.findall(r"<p(?:\s[^>]*)?>(.*?)</p>|<div class=\"para\"[^>]*>(.*?)</div>", html, flags=re.S)
             for p in [p[0] or p[1]]]
    return "\n\n".join(p for p in paras if p)


def source_files(site_packages: str | None = None) -> list[str]:
    """Real English text files on this machine (read at build time, never committed)."""
    files = sorted(glob.glob("/usr/share/doc/python3.11/html/_sources/**/*.txt", recursive=True))
    files += sorted(glob.glob("/usr/share/common-licenses/*"))
    files += sorted(glob.glob("/usr/share/doc/debian-handbook/html/en-US/*.html"))  # apt-get install debian-handbook
    if site_packages:
        for pattern in ("*/README*", "*.dist-info/LICENSE*", "*/docs/*.rst", "*/*.md"):
            files += sorted(glob.glob(os.path.join(site_packages, pattern)))
    return [f for f in files if os.path.isfile(f)]


def documents(files: list[str]) -> list[list[str]]:
    """Each file as a list of prose paragraphs (files with fewer than 3 are dropped)."""
    docs = []
    for path in files:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="ignore")
            paras = _clean_rst(_html_paragraphs(text) if path.endswith(".html") else text)
        except OSError:
            continue
        if len(paras) >= 3:
            docs.append(paras)
    return docs


def held_out_sentences() -> set[str]:
    """Every sentence of the held-out prose set: the builder asserts none of them is trained on."""
    found: set[str] = set()
    for path in HELD_OUT_DIR.rglob("*.md"):
        for para in path.read_text(encoding="utf-8").split("\n\n"):
            found.update(s.lower() for s in sentences(para.strip()) if len(s) > 30)
    return found


def _passage(paras: list[str], i: int, rng: random.Random, max_chars: int) -> str:
    """Paragraph ``i``, joined with its neighbours up to ``max_chars`` (the Lab's chunks hold ~150 words)."""
    text, j = paras[i], i + 1
    while j < len(paras) and len(text) + len(paras[j]) < max_chars and rng.random() < 0.6:
        text, j = text + "\n\n" + paras[j], j + 1
    return text[:max_chars * 2]


def make_example(docs: list[list[str]], rng: random.Random, max_chars: int = 600,
                 distractors: tuple[int, ...] = (0, 0, 1, 1, 2), short_answers: bool = False) -> Example | None:
    """One question about one sentence, with its passage among 0-2 distractor passages (or none: closed book)."""
    paras = rng.choice(docs)
    i = rng.randrange(len(paras))
    options = [(s, sp) for s in sentences(paras[i]) if 30 <= len(s) <= 260 for sp in answer_spans(s)[:3]]
    if not options:
        return None
    sentence, (kind, a, b) = rng.choice(options)
    if short_answers and rng.random() < 0.4:
        question = keyword_question(sentence, a, b, kind, rng)
    else:
        question = question_for(sentence, a, b, kind, rng)
    answer = short_answer(sentence, a, b) if short_answers else clause_around(sentence, a, b)
    if rng.random() < CLOSED_BOOK_SHARE:
        return Example(build_messages(question, None), answer)
    passages = [_passage(paras, i, rng, max_chars)]
    for _ in range(rng.choice(distractors)):
        other = rng.choice([paras, rng.choice(docs)])
        passages.append(_passage(other, rng.randrange(len(other)), rng, max_chars))
    rng.shuffle(passages)
    return Example(build_messages(question, passages), answer)


def focus_example(docs: list[list[str]], rng: random.Random) -> Example | None:
    """A question over 2-3 sentences of one document in document order, as the Lab's sentence focus hands them
    to the reader (``core.rag.focus``); the target is the whole evidence sentence, which copy decoding copies."""
    paras = rng.choice(docs)
    flat = [(i, s) for i, para in enumerate(paras) for s in sentences(para) if 30 <= len(s) <= 260]
    if len(flat) < 3:
        return None
    at = rng.randrange(len(flat))
    spans = answer_spans(flat[at][1])[:3]
    if not spans:
        return None
    kind, a, b = rng.choice(spans)
    sentence = flat[at][1]
    question = keyword_question(sentence, a, b, kind, rng) if rng.random() < 0.4 else question_for(sentence, a, b, kind, rng)
    # the focus hands over look-alikes: the document's sentences that share the most words with the question
    words = {w.lower() for w in re.findall(r"[\w'-]+", question) if w.lower() not in QUESTION_STOP}
    overlap = sorted((-len(words & {w.lower() for w in re.findall(r"[\w'-]+", s)}) - rng.random(), j)
                     for j, (_, s) in enumerate(flat) if j != at)
    picked = sorted([at, *(j for _, j in overlap[:rng.choice((1, 1, 2))])])
    return Example(build_messages(question, [" ".join(flat[j][1] for j in picked)]), sentence)


def examples(docs: list[list[str]], n: int, seed: int = 0, short: bool = False,
             short_answers: bool = False, focus_share: float = 0.0) -> list[Example]:
    """``n`` examples; asserts that no held-out sentence is among the passages or answers.

    ``short``: one passage of at most 300 characters and no distractor: cheap steps in which
    copying forms, before the full-length mix.
    """
    rng, out, banned = random.Random(seed), [], held_out_sentences()
    while len(out) < n:
        if focus_share and rng.random() < focus_share:
            ex = focus_example(docs, rng)
        elif short:
            ex = make_example(docs, rng, 300, (0,), short_answers=short_answers)
        else:
            ex = make_example(docs, rng, short_answers=short_answers)
        if ex is not None:
            out.append(ex)
    text = " ".join(m["content"].lower() for ex in out for m in ex.messages)
    assert not any(s in text for s in banned), "a held-out sentence reached the training data"
    return out
