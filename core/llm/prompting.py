"""The ONE prompt format of the Lab, used in the built-in model's training data and at inference.

``build_messages`` returns chat messages: a system message that carries the
instruction and, for RAG, the numbered context passages; then a user message
with the question. This module is the Lab's one prompt seam; every caller (Prompt page,
answers, fine-tuning data, evaluation, ``core.llm.generation``) goes through it:

- ``render(tokenizer, messages)``: THE string the model reads;
- ``encode(tokenizer, messages)``: its token ids exactly as the model receives them (their
  length is the prompt's token count);
- ``fit_chunks(...)``: the one rule for fitting retrieved chunks into the window.

``render`` writes:

- a tokenizer with a chat template: the template, with the assistant turn opened;
- a tokenizer without one (GPT-2, base models, T5): the **plain format**, one line per
  message as ``Role: content``, then ``Assistant:`` on its own line::

      System: Answer the question using the context passages below. …
      User: Who owns Elmby Blooms?
      Assistant:

For an encoder-decoder model (T5) that string is the encoder's input and the
answer is the decoder's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_SYSTEM_RAG = "Answer the question using the context passages below."
DEFAULT_SYSTEM_BASE = "You are a helpful assistant. Answer the question in one sentence."


def format_context(contexts: list[str]) -> str:
    """Numbered passages, one blank line apart: ``[1] text``."""
    return "\n\n".join(f"[{i}] {c.strip()}" for i, c in enumerate(contexts, 1))


CONTEXT_PLACES = ("system", "user")


@dataclass(frozen=True)
class PromptStyle:
    """How a RAG prompt is laid out: where the passages go and how the question is asked (a model profile's
    ``reading.prompt``). The default is the Lab's original layout; closed-book prompts never change.

    A small instruct model reads passages best in its user turn, right before the question (it was
    tuned on "text, then a question about it"): docs/english-model.md measures the variants.
    """

    context_in: str = "system"  # "system": instruction + passages in the system message; "user": in the user turn
    question: str = "{question}"  # how the question is asked after the passages, e.g. "{question} Answer briefly."
    question_first: bool = False  # also ask the question before the passages (the model reads them knowing what to find)
    instruction: str = ""  # the RAG system instruction; "" = the Lab's (DEFAULT_SYSTEM_RAG)

    def __post_init__(self) -> None:
        from core.errors import ConfigError

        if self.context_in not in CONTEXT_PLACES:
            raise ConfigError(f"context_in must be one of {', '.join(CONTEXT_PLACES)} (got {self.context_in!r})")
        if "{question}" not in self.question:
            raise ConfigError(f"the question template must contain {{question}} (got {self.question!r})")

    def ask(self, question: str) -> str:
        return self.question.replace("{question}", question.strip()).strip()


DEFAULT_STYLE = PromptStyle()


def build_messages(question: str, contexts: list[str] | None, system: str | None = None,
                   style: PromptStyle | None = None) -> list[dict]:
    """Chat messages for ``question``; with ``contexts`` (RAG) the passages go where ``style`` puts them
    (by default in the system message).

    >>> build_messages("Who owns Elmby Blooms?", ["Elmby Blooms is owned by Ada Vance."])[0]["content"]
    'Answer the question using the context passages below.\\n\\nContext:\\n[1] Elmby Blooms is owned by Ada Vance.'
    >>> build_messages("Who owns it?", ["Ada owns it."], style=PromptStyle("user", "{question} Answer briefly."))[1]
    {'role': 'user', 'content': 'Context:\\n[1] Ada owns it.\\n\\nWho owns it? Answer briefly.'}
    """
    contexts = [c for c in (contexts or []) if c and c.strip()]
    style = style or DEFAULT_STYLE
    if not contexts:
        return [{"role": "system", "content": (system or DEFAULT_SYSTEM_BASE).strip()},
                {"role": "user", "content": question.strip()}]
    instruction = (system or style.instruction or DEFAULT_SYSTEM_RAG).strip()
    passages = f"Context:\n{format_context(contexts)}"
    if style.question_first:
        passages = f"Question: {question.strip()}\n\n{passages}"
    if style.context_in == "user":
        return [{"role": "system", "content": instruction},
                {"role": "user", "content": f"{passages}\n\n{style.ask(question)}"}]
    return [{"role": "system", "content": f"{instruction}\n\n{passages}"},
            {"role": "user", "content": style.ask(question)}]


# --- token accounting (the Prompt assembly page) ------------------------------------



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
    ids: list[int] = field(default_factory=list)  # the token ids of ``text`` as the model receives them

    @property
    def budget(self) -> int:
        """Tokens the prompt may use: the window minus room for the answer (``prompt_budget``)."""
        return prompt_budget(self.context_window, self.max_new_tokens)

    @property
    def over_budget(self) -> bool:
        """Too long even with one chunk: the model refuses this prompt (``core.llm.generation.generate``)."""
        return self.n_tokens > self.budget


def count_tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0


def has_chat_template(tokenizer) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def plain_format(messages: list[dict]) -> str:
    r"""The documented prompt for tokenizers without a chat template.

    >>> plain_format([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}])
    'System: Be brief.\nUser: Hi?\nAssistant:'
    """
    return "\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages) + "\nAssistant:"


def render(tokenizer, messages: list[dict] | str) -> str:
    """The final prompt string: the chat template with the assistant turn opened, else the plain format.

    A string is a prompt already written out (raw text for speed tests): it is used as it is.
    """
    if isinstance(messages, str):
        return messages
    if has_chat_template(tokenizer):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return plain_format(messages)



def encode(tokenizer, messages: list[dict] | str, seq2seq: bool = False) -> list[int]:
    """The prompt's token ids exactly as the model (or its encoder) receives them; ``len`` is its token count."""
    templated = not isinstance(messages, str) and has_chat_template(tokenizer)
    return prompt_ids(tokenizer, render(tokenizer, messages), templated, seq2seq)


def prompt_budget(context_window: int, max_new_tokens: int) -> int:
    """Tokens a prompt may use: the window minus room for the answer (at least 64, so a tiny window still asks)."""
    return max(64, int(context_window) - int(max_new_tokens))


def fit_chunks(tokenizer, question: str, contexts: list[str], budget: int, system: str | None = None,
               seq2seq: bool = False, style: PromptStyle | None = None) -> list[str]:
    """THE rule for fitting retrieved chunks into the window: drop the last (lowest-priority) chunks
    until the prompt is at most ``budget`` tokens, but keep at least one.

    WHY keep one: a RAG prompt with no passage silently becomes the base model; with one passage
    that still does not fit, generation refuses with a clear message instead.
    """
    contexts = [c for c in contexts if c and c.strip()]
    while len(contexts) > 1 and len(encode(tokenizer, build_messages(question, contexts, system, style), seq2seq)) > budget:
        contexts = contexts[:-1]
    return contexts


def adds_special_tokens(tokenizer, text: str, templated: bool, seq2seq: bool = False) -> bool:
    """Whether ``text`` is tokenised with the tokenizer's own special tokens (BOS, or T5's closing ``</s>``).

    A chat template writes its own; other text gets them unless it already starts with BOS.
    An encoder always gets them: T5 is trained on inputs that end with ``</s>``.
    """
    if seq2seq:
        return True
    bos = getattr(tokenizer, "bos_token", None)
    return not templated and not (bos and text.startswith(bos))


def prompt_ids(tokenizer, text: str, templated: bool, seq2seq: bool = False) -> list[int]:
    """The token ids the model receives for the prompt ``text`` (see ``adds_special_tokens``)."""
    return tokenizer(text, add_special_tokens=adds_special_tokens(tokenizer, text, templated, seq2seq))["input_ids"]


def answer_prefix(prompt: str) -> str:
    """What goes between prompt and answer: a space after the plain format's ``Assistant:``, else nothing."""
    return "" if not prompt or prompt[-1].isspace() else " "


def _measure(question: str, contexts: list[str], system: str | None, tokenizer, window: int, max_new: int,
             truncated: list[str], seq2seq: bool = False, style: PromptStyle | None = None) -> Prompt:
    style = style or DEFAULT_STYLE
    messages = build_messages(question, contexts, system, style)
    text = render(tokenizer, messages)
    ids = encode(tokenizer, messages, seq2seq)
    total = len(ids)
    sys_text = (system or ((style.instruction or DEFAULT_SYSTEM_RAG) if contexts else DEFAULT_SYSTEM_BASE)).strip()
    parts = [PromptPart("system", "system", sys_text, count_tokens(tokenizer, sys_text))]
    parts += [PromptPart(f"chunk {i}", style.context_in, f"[{i}] {c.strip()}",
                         count_tokens(tokenizer, f"[{i}] {c.strip()}")) for i, c in enumerate(contexts, 1)]
    asked = style.ask(question) if contexts else question.strip()
    parts.append(PromptPart("question", "user", asked, count_tokens(tokenizer, asked)))
    overhead = total - sum(p.n_tokens for p in parts)
    parts.append(PromptPart("template", "template", "role markers, 'Context:' header, special tokens", overhead))
    return Prompt(parts, messages, text, total, window, max_new, list(truncated), ids)


def assemble_prompt(question: str, contexts: list[str] | None, system: str | None, tokenizer,
                    context_window: int, max_new_tokens: int = 48, seq2seq: bool = False,
                    style: PromptStyle | None = None) -> Prompt:
    """The prompt the model receives for ``question`` and ranked ``contexts``, split into parts with token counts.

    ``seq2seq``: the model is an encoder-decoder; the count includes the encoder's special tokens.
    ``style``: the model's prompt layout (``PromptStyle``; its profile's ``reading.prompt``).

    Chunks are fitted by ``fit_chunks`` (the rule the answers use): the last ones in ``contexts``
    (the caller orders them by priority) are dropped until the prompt fits, keeping at least one.
    ``Prompt.truncated`` names what was dropped; ``Prompt.over_budget`` says the model would refuse it.

    >>> p = assemble_prompt("Who owns Elmby Blooms?", ["Ada Vance owns it."], None, tok, 1024)  # doctest: +SKIP
    >>> [(x.label, x.n_tokens) for x in p.parts]                                                # doctest: +SKIP
    [('system', 9), ('chunk 1', 8), ('question', 7), ('template', 14)]
    """
    contexts = [c for c in (contexts or []) if c and c.strip()]
    kept = fit_chunks(tokenizer, question, contexts, prompt_budget(context_window, max_new_tokens), system, seq2seq,
                      style)
    truncated = [f"chunk {i}" for i in range(len(contexts), len(kept), -1)]
    return _measure(question, kept, system, tokenizer, context_window, max_new_tokens, truncated, seq2seq, style)


def request_cost(n_input: int, n_output: int, price_in_per_1k: float, price_out_per_1k: float) -> float:
    """Price of one request given prices per 1,000 input and output tokens."""
    return n_input / 1000 * price_in_per_1k + n_output / 1000 * price_out_per_1k


CHUNK_ORDERS = {"score": "Best chunk first (by score)", "reversed": "Best chunk last (reversed)",
                "middle": "Best chunks at the edges, weakest in the middle"}


def order_chunks(texts: list[str], order: str) -> list[str]:
    """Chunks, best first, put in the order the prompt shows them (models read a long context's middle worst).

    >>> order_chunks(["1st", "2nd", "3rd", "4th", "5th"], "middle")
    ['1st', '3rd', '5th', '4th', '2nd']
    >>> order_chunks(["1st", "2nd", "3rd"], "reversed")
    ['3rd', '2nd', '1st']
    """
    if order not in CHUNK_ORDERS:
        raise ValueError(f"unknown chunk order {order!r}; expected one of {', '.join(CHUNK_ORDERS)}")
    if order == "reversed":
        return texts[::-1]
    if order == "middle":  # 1st, 3rd, 5th … then … 4th, 2nd: the weakest land in the middle
        return texts[0::2] + texts[1::2][::-1]
    return list(texts)
