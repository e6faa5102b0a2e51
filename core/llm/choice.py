"""One rule picks the model that reads a text: 🧪 world text → the tiny LM, plain English → the English model.

Used by ``ask``, ``eval``, ``finetune``, ``warmup`` and every page, so they never disagree. The text
is the documents or, when there are none, the Q&A pairs. The test is the world model's own tokenizer:
trained on the invented world, it packs world text into long tokens (4.3 characters per token on
the 🧪 samples) and splits English into short ones (2.1–2.7 on the 📄 prose samples and the held-out
English set), so a threshold of 3.5 separates them with a wide margin.

>>> choose_model(texts=["The Wilarmore Blender costs $70.35. The Wilarmore Blender weighs 964 grams."]).name
'lab-tiny-lm'
>>> choose_model(texts=["Pinecrest Cycle Works is a family-run bicycle repair shop on Alder Street."]).name
'smollm2-135m-instruct'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from core.llm.fetch import REPO_MODELS
from core.llm.profiles import default_for

WORLD_CHARS_PER_TOKEN = 3.5  # at or above: world text (measured 4.3 world, ≤ 2.7 English)
SAMPLE_CHARS = 20_000  # enough text to decide; the tokenizer reads it in milliseconds


@dataclass(frozen=True)
class ModelChoice:
    """The model that reads a text, and why (one sentence for a page, stderr or JSON)."""

    name: str  # a built-in model's name (models/<name>/lab.json)
    why: str  # "<name> reads <the documents>, because <reason>": one line for stderr or JSON
    reads: str  # "world" | "english" ("" when the choice came from elsewhere, e.g. an adapter's base)
    chars_per_token: float  # the measurement behind the choice (0.0 when there was no text)
    reason: str = ""  # the "because" part alone, for pages that name the model themselves

    def to_dict(self) -> dict:
        return {"name": self.name, "why": self.why, "reads": self.reads, "chars_per_token": self.chars_per_token}


def choose_model(docs: Iterable | None = None, qa: Iterable | str | Path | None = None,
                 texts: Iterable[str] | None = None) -> ModelChoice:
    """The built-in model for these documents, else these Q&A pairs, else ``texts``.

    ``docs``: paths (files or folders) or Document objects; ``qa``: a Q&A file or QAItem rows.
    """
    sample, source = _sample(texts or ()), "the text"
    if not sample and docs:
        sample, source = _sample(_doc_texts(docs)), "the documents"
    if not sample and qa:
        sample, source = _sample(_qa_texts(qa)), "the Q&A pairs (there are no documents)"
    if not sample:
        english = default_for("english")
        reason = "there is no text yet, and plain English is the Lab's default"
        return ModelChoice(english.name, f"{english.name} reads plain English: {reason}", "english", 0.0, reason)
    ratio = chars_per_token(sample)
    reads = "world" if ratio >= WORLD_CHARS_PER_TOKEN else "english"
    profile = default_for(reads)
    reason = (f"{profile.chosen_because} (the world tokenizer packs {ratio:.1f} characters per token here; "
              f"world text ≥ {WORLD_CHARS_PER_TOKEN})")
    return ModelChoice(profile.name, f"{profile.name} reads {source}, because {reason}", reads, round(ratio, 2), reason)


def chars_per_token(text: str) -> float:
    """Characters per token of the world model's tokenizer: high for world text, low for English."""
    ids = _world_tokenizer().encode(text, add_special_tokens=False).ids
    return len(text) / max(1, len(ids))


@functools.lru_cache(maxsize=1)
def _world_tokenizer():
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(REPO_MODELS / default_for("world").name / "tokenizer.json"))


def _sample(texts: Iterable[str]) -> str:
    out, size = [], 0
    for text in texts:
        if size >= SAMPLE_CHARS:
            break
        text = (text or "").strip()
        if text:
            out.append(text[: SAMPLE_CHARS - size])
            size += len(out[-1])
    return "\n".join(out)


def _doc_texts(docs: Iterable) -> Iterable[str]:
    """Document texts: Document objects as they are; paths read from disk (any readable format)."""
    from core.errors import DocumentError
    from core.rag.documents import expand_paths, load_path

    for doc in docs:
        if hasattr(doc, "text"):
            yield doc.text
            continue
        for path in expand_paths([doc]):
            try:
                yield load_path(path).text
            except DocumentError:
                continue  # the caller reports a bad file where it loads the documents


def _qa_texts(qa) -> Iterable[str]:
    from core.rag.corpora import load_qa

    rows = load_qa(qa) if isinstance(qa, (str, Path)) else qa
    for row in rows:
        yield f"{row.question} {row.answer}" if hasattr(row, "question") else f"{row.get('question', '')} " \
                                                                             f"{row.get('answer', '')}"
