"""Where in the passage did the answer come from? Attention from answer tokens to context tokens.

The prompt (with the retrieved passages) and the answer are run through the model once with
attention weights returned. For every answer token, the attention it pays to each prompt
token is averaged over heads and layers; the weights that land inside a passage are mapped
back to character spans of that passage, so a view can paint them over the chunk's text.

Attention is not a proof of cause (Jain & Wallace 2019), but on a small model that copies
values it points at the copied words clearly, and it runs live on a laptop CPU.

Shape (plain data)::

    Attribution(
        passages=[[Span(start=0, end=5, weight=0.12), …], …],   # per passage, weights summed over answer tokens, max 1
        tokens=[{"token": " $70", "start": 26, "end": 29,
                 "top": [{"passage": 0, "start": 88, "end": 92, "weight": 0.41}, …]}, …],
        in_context=0.63)                                        # share of answer→prompt attention on the passages

>>> Span(0, 3, 0.5).to_dict()
{'start': 0, 'end': 3, 'weight': 0.5}
"""

from __future__ import annotations

import copy
import threading
import weakref
from dataclasses import asdict, dataclass, field

import torch

from core.errors import ConfigError

TOP_PER_TOKEN = 3
_EAGER: "weakref.WeakKeyDictionary[object, object]" = weakref.WeakKeyDictionary()
_EAGER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Span:
    start: int  # character offsets into the passage
    end: int
    weight: float  # attention received, scaled so the passage's strongest span is 1

    def to_dict(self) -> dict:
        return {**asdict(self), "weight": round(self.weight, 4)}


@dataclass
class Attribution:
    passages: list[list[Span]]
    tokens: list[dict] = field(default_factory=list)
    in_context: float = 0.0

    def to_dict(self) -> dict:
        return {"passages": [[s.to_dict() for s in p] for p in self.passages], "tokens": self.tokens,
                "in_context": round(self.in_context, 4)}


def _eager_twin(model):
    """A copy of ``model`` that returns attention weights (the shared one keeps its fast attention).

    Made once per model and kept while the model lives: the Lab never changes a shared model.
    """
    with _EAGER_LOCK:
        twin = _EAGER.get(model)
        if twin is None:
            twin = copy.deepcopy(model)
            if hasattr(twin, "set_attn_implementation"):
                twin.set_attn_implementation("eager")
            else:
                twin.config._attn_implementation = "eager"
            twin.eval()
            _EAGER[model] = twin
        return twin


def _passage_ranges(prompt: str, contexts: list[str]) -> list[tuple[int, int]]:
    """Where each passage's text sits in the rendered prompt."""
    ranges, at = [], 0
    for text in contexts:
        start = prompt.find(text.strip(), at)
        if start < 0:
            raise ConfigError("a passage was not found in the rendered prompt")
        ranges.append((start, start + len(text.strip())))
        at = start + len(text.strip())
    return ranges


def attribute(gen, plan, answer: str) -> Attribution:
    """Attention from each token of ``answer`` to the passages of ``plan`` (a ``core.llm.plan.PromptPlan``),
    the prompt the answer was generated from."""
    from core.llm.prompting import adds_special_tokens, has_chat_template

    contexts = [c for c in plan.passages if c and c.strip()]
    if not contexts:
        raise ConfigError("attribution needs at least one retrieved passage in the prompt")
    if not answer.strip():
        raise ConfigError("there is no answer to attribute")
    if getattr(gen.model.config, "is_encoder_decoder", False):
        raise ConfigError("attention attribution is shown for decoder-only models (this one is encoder-decoder)")
    tok, prompt = gen.tokenizer, plan.text
    special = adds_special_tokens(tok, prompt, has_chat_template(tok))
    enc = tok(prompt, add_special_tokens=special, return_offsets_mapping=True)
    ans = tok(answer, add_special_tokens=False, return_offsets_mapping=True)
    p_ids, p_off = enc["input_ids"], enc["offset_mapping"]
    a_ids, a_off = ans["input_ids"], ans["offset_mapping"]
    if list(p_ids) != list(plan.ids):
        raise ConfigError("the prompt's tokens differ from the plan's: attribution would score another prompt")
    n_p = len(p_ids)
    if n_p + len(a_ids) > gen.context_window:
        raise ConfigError(f"the prompt and answer do not fit {gen.name}'s window of {gen.context_window} tokens")
    with torch.inference_mode():
        out = _eager_twin(gen.model)(input_ids=torch.tensor([p_ids + a_ids]), output_attentions=True)
    # mean over layers and heads: (seq, seq); rows of answer tokens, columns of prompt tokens.
    # Row i predicts token i+1, so answer token j is produced at row n_p + j - 1.
    att = torch.stack([a[0].float() for a in out.attentions]).mean(dim=(0, 1))
    rows = att[n_p - 1: n_p - 1 + len(a_ids), :n_p]
    ranges = _passage_ranges(prompt, contexts)
    owner = []  # for each prompt token: (passage, start, end) in passage coordinates, or None
    for s, e in p_off:
        hit = next(((i, max(s, lo) - lo, min(e, hi) - lo) for i, (lo, hi) in enumerate(ranges) if s < hi and e > lo), None)
        owner.append(hit)
    totals = rows.sum(dim=0)
    passages: list[list[Span]] = [[] for _ in contexts]
    for j, hit in enumerate(owner):
        if hit is not None and hit[2] > hit[1]:
            passages[hit[0]].append(Span(hit[1], hit[2], float(totals[j])))
    for i, spans in enumerate(passages):
        top = max((s.weight for s in spans), default=0.0) or 1.0
        passages[i] = [Span(s.start, s.end, s.weight / top) for s in spans]
    in_ctx = [j for j, hit in enumerate(owner) if hit is not None]
    share = float(rows[:, in_ctx].sum() / rows.sum()) if in_ctx and float(rows.sum()) > 0 else 0.0
    tokens = []
    for r, (s, e) in zip(rows, a_off):
        order = [j for j in torch.argsort(r, descending=True).tolist() if owner[j] is not None][:TOP_PER_TOKEN]
        tokens.append({"token": answer[s:e], "start": s, "end": e,
                       "top": [{"passage": owner[j][0], "start": owner[j][1], "end": owner[j][2],
                                "weight": round(float(r[j]), 4)} for j in order]})
    return Attribution(passages, tokens, share)


def attribute_answer(answerer, question: str, answer) -> dict | None:
    """``attribute`` for one system's answer over the passages its prompt held; None when it read none."""
    from core.llm.plan import answer_plan

    plan = answer_plan(answerer, question, answer)
    if not plan.passages or not answer.text.strip():
        return None
    gen = answerer.generator(answer.system)  # core.answering.Answerer: the adapter for LoRA systems
    return attribute(gen, plan, answer.text).to_dict()
