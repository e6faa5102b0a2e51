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


# --- token accounting (the Prompt assembly page) ------------------------------------

from dataclasses import dataclass, field  # noqa: E402  (appended section)


@dataclass(frozen=True)
class PromptPart:
    label: str  # "system", "chunk 1", …, "question", "template" (role markers, headers, special tokens)
    role: str  # the chat role the text sits in: system | user | template
    text: str
    n_tokens: int


@dataclass(frozen=True)
class Prompt:
    """The exact string a model receives, split into parts with token counts."""

    parts: list[PromptPart]
    messages: list[dict]
    text: str  # the chat template's output: what is tokenised
    n_tokens: int
    context_window: int
    max_new_tokens: int
    truncated: list[str] = field(default_factory=list)  # labels of parts dropped or cut to fit

    @property
    def budget(self) -> int:
        """Tokens the prompt may use: the window minus room for the answer."""
        return self.context_window - self.max_new_tokens


def count_tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0


def render_chat(tokenizer, messages: list[dict]) -> str:
    """The final prompt string: the tokenizer's chat template with the assistant turn opened."""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def _measure(question: str, contexts: list[str], system: str | None, tokenizer, window: int, max_new: int,
             truncated: list[str]) -> Prompt:
    messages = build_messages(question, contexts, system)
    text = render_chat(tokenizer, messages)
    total = count_tokens(tokenizer, text)
    sys_text = (system or (DEFAULT_SYSTEM_RAG if contexts else DEFAULT_SYSTEM_BASE)).strip()
    parts = [PromptPart("system", "system", sys_text, count_tokens(tokenizer, sys_text))]
    parts += [PromptPart(f"chunk {i}", "system", f"[{i}] {c.strip()}", count_tokens(tokenizer, f"[{i}] {c.strip()}"))
              for i, c in enumerate(contexts, 1)]
    parts.append(PromptPart("question", "user", question.strip(), count_tokens(tokenizer, question.strip())))
    overhead = total - sum(p.n_tokens for p in parts)
    parts.append(PromptPart("template", "template", "role markers, 'Context:' header, special tokens", overhead))
    return Prompt(parts, messages, text, total, window, max_new, list(truncated))


def assemble_prompt(question: str, contexts: list[str] | None, system: str | None, tokenizer,
                    context_window: int, max_new_tokens: int = 48) -> Prompt:
    """Build the prompt and fit it into ``context_window - max_new_tokens`` tokens.

    Chunks are dropped from the END of ``contexts`` (the caller orders them by
    priority) until the prompt fits; if the question alone is still too long, its
    tail is cut. ``Prompt.truncated`` names what was dropped or cut.

    >>> p = assemble_prompt("Who owns Elmby Blooms?", ["Ada Vance owns it."], None, tok, 1024)  # doctest: +SKIP
    >>> [(x.label, x.n_tokens) for x in p.parts]                                                # doctest: +SKIP
    [('system', 9), ('chunk 1', 8), ('question', 7), ('template', 14)]
    """
    contexts = [c for c in (contexts or []) if c and c.strip()]
    budget = context_window - max_new_tokens
    truncated: list[str] = []
    prompt = _measure(question, contexts, system, tokenizer, context_window, max_new_tokens, truncated)
    while prompt.n_tokens > budget and contexts:
        truncated.append(f"chunk {len(contexts)}")
        contexts = contexts[:-1]
        prompt = _measure(question, contexts, system, tokenizer, context_window, max_new_tokens, truncated)
    if prompt.n_tokens > budget:
        ids = tokenizer(question, add_special_tokens=False)["input_ids"]
        keep = max(1, len(ids) - (prompt.n_tokens - budget))
        truncated.append(f"question (cut to {keep} tokens)")
        prompt = _measure(tokenizer.decode(ids[:keep]), contexts, system, tokenizer, context_window, max_new_tokens,
                          truncated)
    return prompt


def request_cost(n_input: int, n_output: int, price_in_per_1k: float, price_out_per_1k: float) -> float:
    """Price of one request given prices per 1,000 input and output tokens."""
    return n_input / 1000 * price_in_per_1k + n_output / 1000 * price_out_per_1k
