"""How sure was the model? Token probabilities of an answer, and of the reference value.

Both are *teacher-forced*: the prompt and a given answer are run through the model once,
and each answer token's probability is read off the model's next-token distribution. The
prompt is an answer's own ``PromptPlan`` (``core.llm.plan``), so the ids scored are the ids
the answer was generated from; chat messages or a raw string are accepted for experiments.

- ``token_probabilities(gen, prompt, answer)``: the probability the model gave each token
  of ``answer`` (its own answer, to colour it; or any text).
- ``value_probability(gen, prompt, reference, value)``: the probability of the tokens that
  spell ``value`` inside the reference answer, given everything before them. Comparing it
  across systems shows the hallucination lesson in numbers: closed book the right price
  gets almost no probability, and the retrieved chunk moves probability onto it.

Shapes (plain data, for the CLI's JSON and the view functions)::

    TokenScore(text=' $70.35', start=26, end=33, prob=0.91, logprob=-0.094)
    ValueProbability(value='$70.35', found=True, logprob=-0.41, prob=0.66, tokens=[TokenScore, …])

>>> round(ValueProbability("x", True, -0.6931, [],).prob, 3)
0.5
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch

from core.errors import ConfigError
from core.llm.plan import PromptPlan, answer_plan
from core.scoring import is_correct, value_pattern


@dataclass(frozen=True)
class TokenScore:
    text: str  # the token's text in the answer (answer[start:end])
    start: int  # character offsets into the answer
    end: int
    prob: float  # the model's probability for this token, given the prompt and the tokens before it
    logprob: float

    def to_dict(self) -> dict:
        return {**asdict(self), "prob": round(self.prob, 6), "logprob": round(self.logprob, 6)}


@dataclass(frozen=True)
class ValueProbability:
    value: str
    found: bool  # False when the value does not occur in the reference answer (then logprob is -inf)
    logprob: float  # sum over the value's tokens
    tokens: list[TokenScore] = field(default_factory=list)

    @property
    def prob(self) -> float:
        return math.exp(self.logprob) if self.found else 0.0

    def to_dict(self) -> dict:
        return {"value": self.value, "found": self.found, "prob": round(self.prob, 6),
                "logprob": round(self.logprob, 6) if self.found else None,
                "tokens": [t.to_dict() for t in self.tokens]}


def prompt_ids(gen, prompt) -> list[int]:
    """The prompt's token ids as ``generate`` feeds them: a ``PromptPlan``'s own ids, or messages encoded
    by ``core.llm.prompting.encode``."""
    from core.llm.generation import encode

    return list(prompt.ids) if isinstance(prompt, PromptPlan) else encode(gen, prompt)


def answer_tokens(gen, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    enc = gen.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return enc["input_ids"], [tuple(o) for o in enc["offset_mapping"]]


def _logprobs(gen, prompt_ids: list[int], answer_ids: list[int]) -> list[float]:
    """log p(answer_ids[i] | prompt, answer_ids[:i]) for every i, in one forward pass."""
    from core.runtime.threads import SMALL_MODEL_PARAMS, few_core_threads, torch_threads

    if not answer_ids:
        return []
    if len(prompt_ids) + len(answer_ids) > gen.context_window:
        raise ConfigError(f"the prompt and answer have {len(prompt_ids) + len(answer_ids)} tokens, more than "
                          f"{gen.name}'s window of {gen.context_window}")
    model = gen.model
    threads = few_core_threads() if gen.n_params < SMALL_MODEL_PARAMS else 0
    with torch.inference_mode(), torch_threads(threads):
        if getattr(model.config, "is_encoder_decoder", False):
            start = model.config.decoder_start_token_id
            start = gen.tokenizer.pad_token_id if start is None else start
            dec = torch.tensor([[start, *answer_ids[:-1]]])
            logits = model(input_ids=torch.tensor([prompt_ids]), decoder_input_ids=dec).logits[0]
        else:
            ids = torch.tensor([prompt_ids + answer_ids])
            logits = model(input_ids=ids).logits[0, len(prompt_ids) - 1: -1]
        logp = torch.log_softmax(logits.float(), dim=-1)
        return logp[torch.arange(len(answer_ids)), torch.tensor(answer_ids)].tolist()


def token_probabilities(gen, prompt, answer: str) -> list[TokenScore]:
    """Each token of ``answer`` with the probability the model gave it after ``prompt``.

    ``prompt``: a ``PromptPlan``, chat messages (as ``build_messages`` makes them) or a raw prompt string.
    """
    ids, offsets = answer_tokens(gen, answer)
    logps = _logprobs(gen, prompt_ids(gen, prompt), ids)
    return [TokenScore(answer[s:e], s, e, math.exp(lp), lp) for (s, e), lp in zip(offsets, logps)]


def value_probability(gen, prompt, reference: str, value: str) -> ValueProbability:
    """Probability of the tokens that spell ``value`` in ``reference`` (teacher-forced after the prompt).

    Only tokens overlapping the value count, so the frame of the sentence ("The blender costs")
    does not dilute it. A value not found in the reference is scored as the whole reference.
    """
    if not value.strip():
        raise ConfigError("the reference value is empty")
    match = value_pattern(value).search(reference)
    if match is None:
        reference, span = value, (0, len(value))
    else:
        span = match.span()
    scores = token_probabilities(gen, prompt, reference)
    inside = [t for t in scores if t.end > span[0] and t.start < span[1]]
    if not inside:
        return ValueProbability(value, False, float("-inf"), [])
    return ValueProbability(value, True, sum(t.logprob for t in inside), inside)


def answer_confidence(answerer, question: str, answer, value: str | None = None,
                      reference_answer: str | None = None) -> dict:
    """``{"tokens": [...], "reference": {...} | None}`` for one system's answer (the CLI's ``--confidence``).

    ``value``: the right value; it is scored inside ``reference_answer`` (the reference sentence)
    when given, else on its own as the start of the answer.
    """
    gen = answerer.generator(answer.system)  # core.answering.Answerer: the adapter for LoRA systems
    plan = answer_plan(answerer, question, answer)  # exactly the ids the answer was generated from
    out = {"tokens": [t.to_dict() for t in token_probabilities(gen, plan, answer.text)], "reference": None}
    if value:
        out["reference"] = value_probability(gen, plan, reference_answer or value, value).to_dict()
    return out


def reference_frame(question: str, answers, qa=(), value: str | None = None) -> tuple[str | None, str | None]:
    """(value, reference sentence) to score every system's answer to ``question`` against.

    The Q&A row asked by this question (or one of its paraphrases) gives both; else ``value``
    is framed by the first answer that contains it, so every system is scored on the same text.

    >>> from core.rag.corpora import QAItem
    >>> reference_frame("How much?", [], [QAItem("How much?", "It costs $5.", "$5")])
    ('$5', 'It costs $5.')
    """
    q = question.strip().lower()
    for item in qa:
        if q in {item.question.strip().lower(), *(p.strip().lower() for p in item.paraphrases)}:
            return (value or item.target), (item.answer if is_correct(item.answer, value or item.target) else None)
    if not value:
        return None, None
    return value, next((a.text for a in answers if is_correct(a.text, value)), None)


def value_probabilities(answerer, qa, systems, *, progress=None, should_stop=None) -> list[dict]:
    """P(right value) under each system for every Q&A row: ``[{"item", "question", "system", "prob", "logprob"}]``.

    Teacher-forced on the row's reference answer, with exactly the input each system gives the
    model (``Answerer.prepare``): one forward pass per (question, system), no generation.
    """
    from core.errors import Cancelled

    items = [it for it in qa if it.target]
    rows, total = [], len(items) * len(systems)
    for i, item in enumerate(items):
        for system in systems:
            if should_stop and should_stop():
                raise Cancelled(f"stopped after {len(rows)} of {total}")
            given = answerer.prepare(item.question, system)
            vp = value_probability(given.generator, given.plan, item.answer, item.target)
            rows.append({"item": i, "question": item.question, "system": system, "prob": vp.prob,
                         "logprob": vp.logprob if vp.found else None})
            if progress:
                progress(len(rows), total)
    return rows


def answers_insight(answerer, question: str, answers: dict, reference: str | None = None) -> dict:
    """How sure each system's answer was, and where RAG's answer came from: one forward pass per system.

    ``answers`` maps a system to its ``Answer``; ``reference`` is the Q&A set's answer when there is one.
    Returns ``{"question", "value", "systems": {system: confidence dict}, "attribution"?: {...}}``.
    """
    from core.llm.attribution import attribute

    value, frame = reference_frame(question, list(answers.values()), [reference] if reference else [])
    out = {"question": question, "value": value,
           "systems": {system: answer_confidence(answerer, question, a, value, frame) for system, a in answers.items()}}
    rag = answers.get("rag")
    if rag is not None and rag.sources and rag.text:
        plan = answer_plan(answerer, question, rag)
        att = attribute(answerer.base, plan, rag.text)
        out["attribution"] = {"texts": list(plan.passages), **att.to_dict()}
    return out
