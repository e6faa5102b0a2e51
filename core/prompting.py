"""The ONE prompt format of the Lab, used in the built-in model's training data and at inference.

``build_messages`` returns chat messages: a system message that carries the
instruction and, for RAG, the numbered context passages; then a user message
with the question. Generators render them with the tokenizer's chat template.
"""

from __future__ import annotations

DEFAULT_SYSTEM_RAG = "Answer the question using the context passages below."
DEFAULT_SYSTEM_BASE = "You are a helpful assistant. Answer the question in one sentence."


def format_context(contexts: list[str]) -> str:
    """Numbered passages, one blank line apart: ``[1] text``."""
    return "\n\n".join(f"[{i}] {c.strip()}" for i, c in enumerate(contexts, 1))


def build_messages(question: str, contexts: list[str] | None, system: str | None = None) -> list[dict]:
    """Chat messages for ``question``; with ``contexts`` (RAG) the passages go in the system message.

    >>> build_messages("Who owns Elmby Blooms?", ["Elmby Blooms is owned by Ada Vance."])[0]["content"]
    'Answer the question using the context passages below.\\n\\nContext:\\n[1] Elmby Blooms is owned by Ada Vance.'
    """
    contexts = [c for c in (contexts or []) if c and c.strip()]
    if contexts:
        system_text = f"{(system or DEFAULT_SYSTEM_RAG).strip()}\n\nContext:\n{format_context(contexts)}"
    else:
        system_text = (system or DEFAULT_SYSTEM_BASE).strip()
    return [
        {"role": "system", "content": system_text},
        {"role": "user", "content": question.strip()},
    ]
