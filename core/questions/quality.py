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


def answerable(items: Sequence[BankItem], answerer, progress=None) -> list[bool | None]:
    """For each item, whether RAG (``answerer``, a ``core.answering.Answerer``) answers it right when handed the
    item's own chunk as the one retrieved passage: a question it cannot answer then is a bad question, not a
    retrieval miss. None where the item has no chunk (edited away). The check is the Lab's own
    (``core.scoring.is_correct``: the answer holds the value)."""
    from core.rag.index import Hit
    from core.scoring import is_correct

    chunks = {(c.doc_name, c.index): c for c in answerer.retriever.chunks}
    out: list[bool | None] = []
    for n, item in enumerate(items):
        chunk = chunks.get((item.document, item.chunk))
        if chunk is None:
            out.append(None)
        else:
            answer = answerer.answer(item.question, "rag", hits=[Hit(chunk, 1.0, 1)])
            out.append(bool(is_correct(answer.text, item.value)))
        if progress:
            progress(n + 1, len(items))
    return out


def answerable_share(flags: Sequence[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return round(sum(known) / len(known), 3) if known else None
