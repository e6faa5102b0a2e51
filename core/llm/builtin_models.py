"""The Lab's two built-in models, which one reads the current corpus, and why.

- ``lab-tiny-lm`` (2.6M parameters) is trained on the Lab's invented world: it reads the
  🧪 world corpora, and its lessons (RAG works, hallucination, LoRA) are tuned on them.
- ``lab-english-reader`` (the same 2.6M-parameter architecture and tokenizer, warm-started from
  the tiny LM and trained further on reading plain English) reads the 📄 prose corpora and the
  user's own uploads.

``builtin_for`` picks one from the corpus; pages show ``BuiltinChoice.why``.

>>> builtin_for(reads_world=False).name, builtin_for(reads_world=True).name
('lab-english-reader', 'lab-tiny-lm')
"""

from __future__ import annotations

from dataclasses import dataclass

TINY_NAME = "lab-tiny-lm"
READER_NAME = "lab-english-reader"


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


READER_CAN = ("reads plain English by copying: the Lab's sentence focus keeps the two sentences of the retrieved "
              "chunk that best match the question, and the reader copies the one that answers it; LoRA teaches it "
              "your facts closed-book in about a minute")
READER_CANNOT = ("rephrase, reason over several passages or find the fact in a whole chunk on its own (turn sentence "
                 "focus off on the Answers page to see it miss); without a passage or an adapter it writes a made-up "
                 "sentence; it reads at most 1,024 tokens")

def is_reader(model) -> bool:
    """True for the built-in English reader (loaded from its folder): it shares the tiny LM's architecture, so
    its folder name tells them apart."""
    from pathlib import Path

    return Path(str(getattr(getattr(model, "config", None), "_name_or_path", "") or "")).name == READER_NAME
