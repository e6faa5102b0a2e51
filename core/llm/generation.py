"""Generate answers from a loaded model: greedy or sampled, streamed, with a KV cache.

``generate(gen, messages)`` renders the prompt exactly as ``core.llm.prompting`` does, then decodes one
token at a time (``_stepper``: a causal LM reads the prompt as its first tokens; an encoder-decoder
encodes it once), stopping at any end-of-text id, a stop string or ``max_new_tokens``. With
``copy_from`` every token must continue a verbatim copy of a passage (``core.llm.copying``).
Loading models, and the ``Generator`` they come in, live in ``core.llm.loading``.

>>> generate(load_generator(), "Who owns Elmby Blooms?").text   # doctest: +SKIP
'Ada Vance owns Elmby Blooms.'
"""

from __future__ import annotations

import functools
import inspect
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from core.errors import ConfigError
from core.llm.loading import Generator
from core.runtime.threads import SMALL_MODEL_PARAMS, few_core_threads, torch_threads


def eos_ids(model, tokenizer) -> list[int]:
    """Every id that ends an answer: from the generation config, the model config and the tokenizer."""
    ids: list[int] = []
    for src in (getattr(model, "generation_config", None), getattr(model, "config", None), tokenizer):
        e = getattr(src, "eos_token_id", None)
        for i in (e if isinstance(e, (list, tuple)) else [e] if e is not None else []):
            if i not in ids:
                ids.append(int(i))
    return ids


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    settings: dict = field(default_factory=dict)

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.latency_s if self.latency_s > 0 else 0.0


@functools.lru_cache(maxsize=None)
def _takes_logits_to_keep(model_cls: type) -> bool:
    """Current transformers causal LMs accept ``logits_to_keep``; an older or custom one may not."""
    params = inspect.signature(model_cls.forward).parameters
    return "logits_to_keep" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


@functools.lru_cache(maxsize=None)
def _cache_arg(model_cls: type) -> str:
    """The keyword a model's ``forward`` takes its KV cache by: ``cache`` in transformers 5
    (``past_key_values`` is deprecated there), ``past_key_values`` in an older or custom model."""
    params = inspect.signature(model_cls.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _returned_cache(out):
    """The KV cache a forward pass returned, under its current name or the older one."""
    keys = out.keys() if hasattr(out, "keys") else ()
    return next((out[name] for name in ("cache", "past_key_values") if name in keys), None)


def render_prompt(gen: Generator, messages_or_prompt: str | list[dict]) -> str:
    """Prompt text: ``core.llm.prompting.render`` with this generator's tokenizer."""
    from core.llm.prompting import render

    return render(gen.tokenizer, messages_or_prompt)


def encode(gen: Generator, messages_or_prompt: str | list[dict]) -> list[int]:
    """The prompt's token ids exactly as ``generate`` feeds them to the model: ``core.llm.prompting.encode``."""
    from core.llm.prompting import encode as encode_prompt

    return encode_prompt(gen.tokenizer, messages_or_prompt, gen.is_seq2seq)


def count_tokens(gen: Generator, messages_or_prompt: str | list[dict]) -> int:
    return len(encode(gen, messages_or_prompt))


def _pick(logits: torch.Tensor, temperature: float, top_k: int, top_p: float, rng: torch.Generator) -> int:
    if temperature <= 0:
        return int(torch.argmax(logits))
    logits = logits / temperature
    if top_k and top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if top_p < 1.0:
        sp, si = torch.sort(probs, descending=True)
        keep = torch.cumsum(sp, 0) - sp < top_p
        keep[0] = True
        probs = torch.zeros_like(probs).scatter(0, si[keep], sp[keep])
        probs = probs / probs.sum()
    return int(torch.multinomial(probs, 1, generator=rng))


def _stepper(gen: Generator, ids: list[int]) -> Callable[[int | None], torch.Tensor]:
    """``step(token)`` → next-token logits, with a KV cache: the first call (token None) reads the prompt.

    A causal LM reads the prompt as its own first tokens; an encoder-decoder encodes it once
    and starts its decoder from ``decoder_start_token_id``.
    """
    model, state = gen.model, {"past": None}
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    cache_arg = _cache_arg(type(inner))  # the supported name: no deprecated argument, the same cache object
    if gen.is_seq2seq:
        encoded = model.get_encoder()(input_ids=torch.tensor([ids]))
        start = model.generation_config.decoder_start_token_id
        start = model.config.decoder_start_token_id if start is None else start

        def step(token: int | None) -> torch.Tensor:
            out = model(encoder_outputs=encoded, decoder_input_ids=torch.tensor([[start if token is None else token]]),
                        use_cache=True, **{cache_arg: state["past"]})
            state["past"] = _returned_cache(out)
            return out.logits[0]
        return step
    keep_last = {"logits_to_keep": 1} if _takes_logits_to_keep(type(inner)) else {}  # skip unused logits

    def step(token: int | None) -> torch.Tensor:
        out = model(input_ids=torch.tensor([ids] if token is None else [[token]]), use_cache=True,
                    **{cache_arg: state["past"]}, **keep_last)
        state["past"] = _returned_cache(out)
        return out.logits[0]
    return step


def generate(
    gen: Generator,
    messages_or_prompt,  # str | list[dict] | core.llm.plan.PromptPlan
    *,
    max_new_tokens: int = 48,
    temperature: float = 0.0,
    top_k: int = 0,
    top_p: float = 1.0,
    on_token: Callable[[str], None] | None = None,
    stop: list[str] | None = None,
    seed: int = 0,
    ignore_eos: bool = False,
    copy_from: Sequence[str] | None = None,
    copy_unit: str = "sentence",
) -> Generation:
    """Generate a completion; greedy when ``temperature == 0``.

    ``messages_or_prompt``: a ``PromptPlan`` (its ids are fed as they are), chat messages (rendered with
    the chat template) or raw prompt text.
    ``on_token`` receives each new piece of text as it is produced (streaming).
    ``stop``: strings that end the completion (not included in the text).
    ``ignore_eos``: keep going past end-of-text (for speed measurements).
    ``copy_from``: passages in the prompt; every answer token must then continue a verbatim copy of
    one of them (extractive decoding, ``core.llm.copying``); ignored when they cannot be located.
    """
    if max_new_tokens < 1:
        raise ConfigError("max_new_tokens must be at least 1.")
    if temperature < 0 or not 0 < top_p <= 1 or top_k < 0:
        raise ConfigError("temperature must be ≥ 0, top_p in (0, 1] and top_k ≥ 0.")
    from core.llm.plan import PromptPlan

    tok, model = gen.tokenizer, gen.model
    plan = messages_or_prompt if isinstance(messages_or_prompt, PromptPlan) else None
    ids = list(plan.ids) if plan is not None else encode(gen, messages_or_prompt)
    if len(ids) + max_new_tokens > gen.context_window:
        raise ConfigError(
            f"the prompt has {len(ids)} tokens and {max_new_tokens} new tokens were asked for, but "
            f"{gen.name} reads at most {gen.context_window} tokens. Use fewer or shorter context chunks.")
    ends = set(eos_ids(model, tok))
    stop = [s for s in (stop or []) if s]
    rng = torch.Generator().manual_seed(seed)
    settings = {"max_new_tokens": max_new_tokens, "temperature": temperature, "top_k": top_k,
                "top_p": top_p, "stop": stop, "seed": seed, "greedy": temperature <= 0, "model": gen.name}
    t0 = time.perf_counter()
    out_ids: list[int] = []
    text, emitted = "", 0
    threads = few_core_threads() if gen.n_params < SMALL_MODEL_PARAMS else 0
    copying = None
    if copy_from:
        from core.llm.copying import constraint_for

        rendered = plan.text if plan is not None else render_prompt(gen, messages_or_prompt)
        copying = constraint_for(tok, rendered, ids, copy_from, ends, copy_unit)
    settings["copy"] = copying is not None
    with torch.inference_mode(), torch_threads(threads):
        step = _stepper(gen, ids)
        nxt = None
        for _ in range(max_new_tokens):
            logits = step(nxt)[-1].float()
            nxt = _pick(copying.mask(logits) if copying else logits, temperature, top_k, top_p, rng)
            if nxt in ends and not ignore_eos:
                break
            if copying:
                copying.advance(nxt)
            out_ids.append(nxt)
            if on_token is None and not stop:
                continue  # decode once at the end
            text = tok.decode(out_ids, skip_special_tokens=True)
            hit = min((text.find(s) for s in stop if s in text), default=-1)
            if hit >= 0:
                text = text[:hit]
            safe = len(text) if hit >= 0 else len(text.rstrip("\ufffd"))
            if on_token is not None and safe > emitted:
                on_token(text[emitted:safe])
                emitted = safe
            if hit >= 0:
                break
        if on_token is None and not stop:
            text = tok.decode(out_ids, skip_special_tokens=True)
    latency = time.perf_counter() - t0
    return Generation(text=text.strip(), prompt_tokens=len(ids), completion_tokens=len(out_ids),
                      latency_s=latency, settings=settings)
