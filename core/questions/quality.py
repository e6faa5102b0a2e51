"""What a question bank is worth, in numbers anyone can check: repeats, spread, and how many RAG can answer.

The bank is saved as JSON lines (one ``BankItem.to_dict()`` per line), the same file ``finetune --qa`` and
``eval --qa`` read; the chunk of each item comes from the Lab's default chunking of the same documents.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Sequence

from core.questions.bank import BankItem


def repeat_rate(questions: Sequence[str]) -> float:
    """The share of questions that repeat an earlier one (case and spacing ignored).

    >>> repeat_rate(["Who?", "who? ", "When?"])
    0.333
    """
    keys = [" ".join(q.lower().split()) for q in questions]
    return round(1 - len(set(keys)) / len(keys), 3) if keys else 0.0


def bank_stats(items: Sequence[BankItem]) -> dict:
    """``{"items", "facts", "train", "heldout", "repeat_rate", "by_document", "by_kind"}``."""
    facts = {(i.document, i.start, i.end) for i in items}
    return {"items": len(items), "facts": len(facts), "train": sum(i.split == "train" for i in items),
            "heldout": sum(i.split == "heldout" for i in items), "repeat_rate": repeat_rate([i.question for i in items]),
            "by_document": dict(Counter(i.document for i in items)), "by_kind": dict(Counter(i.kind for i in items))}


def offsets_hold(items: Sequence[BankItem], texts: dict[str, str]) -> bool:
    """Whether every item's value sits at its offsets in its document's text."""
    return all(texts[i.document][i.start:i.end] == i.value for i in items)


def write_bank(items: Sequence[BankItem], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i.to_dict(), ensure_ascii=False) + "\n" for i in items), encoding="utf-8")


def bank_jsonl(items: Sequence[BankItem]) -> str:
    return "".join(json.dumps(i.to_dict(), ensure_ascii=False) + "\n" for i in items)


def read_bank(path: Path) -> list[BankItem]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [BankItem(**{**r, "paraphrases": tuple(r.get("paraphrases") or ())}) for r in rows]


def default_chunks(docs) -> list:
    """The Lab's default chunking of ``docs`` (the embedder's tokens), so each item can name its chunk."""
    from core.rag.chunking import ChunkConfig, chunk_documents
    from core.rag.embedding import load_embedder

    return chunk_documents(docs, ChunkConfig(), load_embedder().tokens)


def answerable(items: Sequence[BankItem], chunk_texts: dict[tuple[str, int], str], generate) -> list[bool]:
    """For each item, whether ``generate(question, passage)`` answers it right given its own chunk.

    ``chunk_texts`` maps (document, chunk index) to the chunk's text; the check is the Lab's own
    (``core.scoring``: the answer contains the value)."""
    from core.scoring import is_correct

    out = []
    for item in items:
        passage = chunk_texts.get((item.document, item.chunk), item.sentence)
        out.append(bool(is_correct(generate(item.question, passage), item.value)))
    return out
