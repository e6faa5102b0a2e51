"""The Lab's two built-in models, which one reads the current corpus, and why.

- ``lab-tiny-lm`` (2.6M parameters) is trained on the Lab's invented world: it reads the
  🧪 world corpora, and its lessons (RAG works, hallucination, LoRA) are tuned on them.
- ``lab-english-reader`` (22.7M parameters, warm-started from the bundled MiniLM encoder)
  reads plain English: the 📄 prose corpora and the user's own uploads.

``builtin_for`` picks one from the corpus; pages show ``BuiltinChoice.why``.

The reader's tokenizer is uncased WordPiece, so its raw output is lower case with spaces
around punctuation ("$ 6. 50"). ``restore_spelling`` is the documented decode step that
gives a copied span back the document's own spelling: every run of at least two words
that also occurs in the prompt (the passages and the question) is replaced by the prompt's
text; what is left gets WordPiece's spacing undone and a capital first letter.

>>> restore_spelling("delivery in zone a costs $ 6. 50 per delivery.", "Zone A: delivery costs $6.50 per delivery.")
'Delivery in Zone A costs $6.50 per delivery.'
>>> builtin_for(reads_world=False).name, builtin_for(reads_world=True).name
('lab-english-reader', 'lab-tiny-lm')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TINY_NAME = "lab-tiny-lm"
READER_NAME = "lab-english-reader"
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class BuiltinChoice:
    name: str  # TINY_NAME or READER_NAME
    why: str  # one sentence for the page


def builtin_for(reads_world: bool) -> BuiltinChoice:
    """The built-in model for a corpus: the tiny LM for 🧪 world corpora, the English reader for the rest."""
    if reads_world:
        return BuiltinChoice(TINY_NAME, "this is a 🧪 world corpus, written in the invented world the tiny LM was "
                                        "trained on; its lessons (RAG, hallucination, LoRA) are measured there")
    return BuiltinChoice(READER_NAME, "this corpus is plain English (a 📄 prose corpus or your uploads), which the "
                                      "tiny LM cannot read; the English reader was trained to read English passages")


def builtin_label(name: str) -> str:
    """How pages name a built-in model."""
    return {TINY_NAME: "the built-in tiny LM", READER_NAME: "the built-in English reader"}.get(name, f"`{name}`")


READER_CAN = ("reads plain-English passages and answers by copying the sentence that holds the fact (so answers "
              "are often a whole sentence); learns your facts closed-book with LoRA in about a minute")
READER_CANNOT = ("does not rephrase, reason over several passages, do arithmetic, or know facts by heart: without "
                 "a passage (or an adapter) it writes a fluent, made-up sentence; it reads at most 512 tokens")


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group().lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def tidy_wordpiece(text: str) -> str:
    """Undo WordPiece's spacing where English writes none ("$ 6. 50" -> "$6.50", "13 : 00" -> "13:00")."""
    text = re.sub(r"(\d)\s*([.,:])\s*(\d)", r"\1\2\3", text)
    text = re.sub(r"([$£€#(\[])\s+", r"\1", text)
    text = re.sub(r"\s+([)\]%!?.,;:])", r"\1", text)
    text = re.sub(r"\s*([-/@'’])\s*", r"\1", text)
    return text.strip()


def restore_spelling(answer: str, source: str, min_run: int = 2) -> str:
    """``answer`` with every run of ≥ ``min_run`` words found in ``source`` spelled as in ``source``."""
    ans, src = _tokens(answer), _tokens(source)
    if not ans:
        return answer.strip()
    where: dict[str, list[int]] = {}
    for j, (w, _, _) in enumerate(src):
        where.setdefault(w, []).append(j)
    pieces, i = [], 0
    while i < len(ans):
        best_j, best_n = -1, 0
        for j in where.get(ans[i][0], []):
            n = 0
            while i + n < len(ans) and j + n < len(src) and ans[i + n][0] == src[j + n][0]:
                n += 1
            if n > best_n:
                best_j, best_n = j, n
        if best_n >= min_run:
            pieces.append(source[src[best_j][1]:src[best_j + best_n - 1][2]])
            i += best_n
        else:
            pieces.append(tidy_wordpiece(answer[ans[i][1]:ans[i][2]]))
            i += 1
    text = tidy_wordpiece(" ".join(pieces))
    return text[:1].upper() + text[1:]


def wants_restoring(tokenizer) -> bool:
    """True for an uncased WordPiece tokenizer (the English reader's): its output needs ``restore_spelling``."""
    return bool(getattr(tokenizer, "do_lower_case", False))
