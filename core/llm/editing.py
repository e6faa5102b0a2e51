"""Edit one fact in the weights: a ROME-style rank-one update of one MLP layer.

Meng et al. 2022 ("Locating and Editing Factual Associations in GPT") treat an MLP's
output projection ``W`` as a key-value memory: the hidden activation at the subject's
last token is a *key* ``k``, and ``W k`` is the *value* the rest of the network reads the
fact from. To make the model say a new value, ROME

1. takes the key ``k*`` at the subject's last token of the question,
2. finds by gradient descent the value ``v*`` that, written at that position, makes the
   model answer with the new fact (only a vector of ``hidden`` numbers is optimised),
3. writes it with the smallest rank-one change of ``W`` that maps ``k*`` to ``v*`` while
   disturbing other keys as little as possible (``C`` is the keys' second moment)::

       W' = W + (v* - W k*) (C⁻¹ k*)ᵀ / (k*ᵀ C⁻¹ k*)

The edit is applied to a *copy* of the model (the shared one is never changed), and
measured three ways, as ROME and EasyEdit do: **reliability** (the question itself),
**generality** (its paraphrases, never seen by the edit) and **locality** (questions about
other entities keep their answers). "Locating" is done by editing each layer in turn and
keeping the best one, which is cheap on the built-in model (4 layers).

>>> from core.llm.loading import load_generator                                             # doctest: +SKIP
>>> r = edit_fact_in_weights(load_generator(), item, "$99.00", others=items[5:15])     # doctest: +SKIP
>>> r.layer, r.reliability, r.generality, r.locality                                     # doctest: +SKIP
(1, 1.0, 1.0, 0.9)
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from core.rag.corpora import QAItem
from core.errors import Cancelled, ConfigError
from core.scoring import is_correct, value_pattern
from core.llm.prompting import build_messages


@dataclass(frozen=True)
class EditConfig:
    """How hard the value search works; the defaults edit the built-in model in about a second a layer."""

    steps: int = 400  # Adam steps to find v* (stops early once the model says the new answer)
    lr: float = 1.0  # ROME uses 0.5 on GPT-2 XL
    weight_decay: float = 0.02  # keeps ||v* - W k*|| small relative to ||W k*||, so the edit stays local
    ridge: float = 0.1  # added to C's diagonal (as a fraction of its mean): measured best of 0.01/0.1 on the built-in model
    layers: tuple[int, ...] | None = None  # None = try every layer and keep the best ("locate")

    def __post_init__(self) -> None:
        if not 1 <= self.steps <= 1000:
            raise ConfigError(f"steps must be between 1 and 1000 (got {self.steps})")
        if not 0 < self.lr <= 10:
            raise ConfigError(f"lr must be greater than 0 and at most 10 (got {self.lr})")
        if not 0 <= self.weight_decay <= 10 or not 0 < self.ridge <= 10:
            raise ConfigError("weight_decay must be in [0, 10] and ridge in (0, 10]")


@dataclass
class LayerTrial:
    layer: int
    reliability: float
    generality: float
    locality: float
    delta_norm: float  # ||v* - W k*|| over the layer's mean output norm: how far the value had to move

    @property
    def score(self) -> float:
        return self.reliability + self.generality + self.locality


@dataclass
class EditResult:
    """What the edit did. ``model`` is the edited copy (a Generator), not serialised."""

    question: str
    subject: str
    old_value: str
    new_value: str
    layer: int
    reliability: float  # the question itself answers with the new value (0 or 1)
    generality: float  # fraction of paraphrases answered with the new value
    locality: float  # other entities' answers: share of their tokens the edited model still predicts (teacher-forced)
    answers: dict  # "question" / "paraphrases" / "others": lists of {"question", "before", "after", "ok"}
    trials: list[LayerTrial]
    seconds: float
    model: object = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """The CLI's JSON shape (``python -m core edit --json``)."""
        return {"question": self.question, "subject": self.subject, "old_value": self.old_value,
                "new_value": self.new_value, "layer": self.layer, "reliability": self.reliability,
                "generality": round(self.generality, 4), "locality": round(self.locality, 4),
                "answers": self.answers, "seconds": round(self.seconds, 3),
                "trials": [{"layer": t.layer, "reliability": t.reliability, "generality": round(t.generality, 4),
                            "locality": round(t.locality, 4), "delta_norm": round(t.delta_norm, 4)}
                           for t in self.trials]}


# --- the model's MLP output projections --------------------------------------------

def _mlp_out(model, layer: int) -> torch.nn.Module:
    """The MLP output projection of ``layer`` (Llama/Qwen/Mistral ``down_proj``, GPT-2 ``c_proj``)."""
    inner = getattr(model, "model", None) or getattr(model, "transformer", None)
    blocks = getattr(inner, "layers", None) or getattr(inner, "h", None)
    if blocks is None or not 0 <= layer < len(blocks):
        raise ConfigError(f"this model has no decoder layer {layer} to edit")
    mlp = blocks[layer].mlp
    out = getattr(mlp, "down_proj", None) or getattr(mlp, "c_proj", None)
    if out is None:
        raise ConfigError("a rank-one edit needs an MLP with an output projection (down_proj or c_proj)")
    return out


def n_layers(model) -> int:
    inner = getattr(model, "model", None) or getattr(model, "transformer", None)
    blocks = getattr(inner, "layers", None) or getattr(inner, "h", None)
    if blocks is None:
        raise ConfigError("a rank-one edit needs a decoder-only model with a list of layers")
    return len(blocks)


def _weight(module) -> torch.Tensor:
    """``W`` as (out, in): Linear stores it that way, GPT-2's Conv1D transposed."""
    return module.weight if isinstance(module, torch.nn.Linear) else module.weight.T


# --- encoding the prompts ----------------------------------------------------------

def _encode(gen, question: str, answer: str | None, subject: str) -> tuple[list[int], int, int]:
    """Token ids of the closed-book prompt (+ answer), the subject's last token, and where the answer starts."""
    from core.llm.generation import render_prompt

    prompt = render_prompt(gen, build_messages(question, None))
    text = prompt + (answer or "")
    enc = gen.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    at = prompt.lower().rfind(subject.lower())
    if at < 0:
        raise ConfigError(f"the subject {subject!r} does not occur in the question {question!r}")
    end = at + len(subject)
    subj = max(i for i, (s, _) in enumerate(offsets) if s < end)
    start = next((i for i, (s, _) in enumerate(offsets) if s >= len(prompt)), len(ids))
    return ids, subj, start


def _keys(model, module, ids_list: Sequence[list[int]], positions: Sequence[int] | None) -> torch.Tensor:
    """The MLP keys (inputs of ``module``) at ``positions`` (one per prompt), or at every position."""
    got: list[torch.Tensor] = []

    def hook(_mod, args):
        got.append(args[0][0].detach())

    handle = module.register_forward_pre_hook(hook)
    try:
        with torch.no_grad():
            for ids in ids_list:
                model(input_ids=torch.tensor([ids]))
    finally:
        handle.remove()
    if positions is None:
        return torch.cat(got)
    return torch.stack([g[p] for g, p in zip(got, positions)])


def second_moment(gen, module, texts: Sequence[str], max_tokens: int = 20_000) -> torch.Tensor:
    """``C = E[k kᵀ]`` over the keys of ``texts`` (the corpus): which directions other facts use."""
    ids_list, total = [], 0
    for t in texts:
        ids = gen.tokenizer(t, add_special_tokens=False)["input_ids"][: gen.context_window]
        if ids and total < max_tokens:
            ids_list.append(ids)
            total += len(ids)
    if not ids_list:
        raise ConfigError("the edit needs some text to estimate which directions other facts use")
    keys = _keys(gen.model, module, ids_list, None).double()
    return keys.T @ keys / len(keys)


# --- finding v* and writing it -------------------------------------------------------

def _direction(key: torch.Tensor, c_inv: torch.Tensor) -> torch.Tensor:
    """``u = C⁻¹k* / (k*ᵀC⁻¹k*)``: the edit adds ``delta · (u·x)`` to the output for input ``x``, so exactly
    ``delta`` at the subject (``u·k* = 1``) and little for keys unlike it."""
    k = key.double()
    u = c_inv @ k
    return (u / float(k @ u)).float()


def _find_value(model, module, ids: list[int], start: int, u: torch.Tensor, cfg: EditConfig,
                should_stop: Callable[[], bool] | None) -> tuple[torch.Tensor, float]:
    """The ``delta`` that makes the model say the answer once ``W += delta uᵀ`` is written.

    The rank-one change is applied inside the forward pass while ``delta`` is searched, so its
    side effects at every other position of the prompt are part of what is optimised.
    """
    hidden = _weight(module).shape[0]
    delta = torch.zeros(hidden, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=cfg.lr)
    x = torch.tensor([ids])
    targets = x[0, start:]
    base_norm = [1.0]

    def hook(_mod, args, out):
        base_norm[0] = float(out[0].norm(dim=-1).mean())
        return out + (args[0] @ u).unsqueeze(-1) * delta

    handle = module.register_forward_hook(hook)
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        for _ in range(cfg.steps):
            if should_stop and should_stop():
                raise Cancelled("the edit was stopped")
            logits = model(input_ids=x).logits[0, start - 1: len(ids) - 1]
            nll = torch.nn.functional.cross_entropy(logits, targets)
            probs = torch.softmax(logits.detach(), -1)[torch.arange(len(targets)), targets]
            if bool((logits.detach().argmax(-1) == targets).all()) and float(probs.min()) > 0.5:
                break  # greedy decoding now says the new answer, with a margin
            loss = nll + cfg.weight_decay * delta.norm() ** 2 / base_norm[0] ** 2
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        handle.remove()
    return delta.detach(), float(delta.norm()) / max(base_norm[0], 1e-9)


def _rank_one(module, delta: torch.Tensor, u: torch.Tensor) -> None:
    """W += delta uᵀ: after it, W k* = W k* + delta exactly."""
    update = torch.outer(delta, u)
    with torch.no_grad():
        if isinstance(module, torch.nn.Linear):
            module.weight += update.to(module.weight.dtype)
        else:  # Conv1D stores (in, out)
            module.weight += update.T.to(module.weight.dtype)


# --- measuring ---------------------------------------------------------------------

def _ask(gen, question: str, max_new_tokens: int) -> str:
    from core.llm.generation import generate

    return generate(gen, build_messages(question, None), max_new_tokens=max_new_tokens).text


def _measure(base_gen, edited, item: QAItem, new_value: str, others: Sequence[QAItem],
             before: dict[str, str], max_new_tokens: int) -> tuple[float, float, float, dict]:
    rows = {"question": [], "paraphrases": [], "others": []}
    for kind, qs in (("question", [item.question]), ("paraphrases", list(item.paraphrases))):
        for q in qs:
            after = _ask(edited, q, max_new_tokens)
            rows[kind].append({"question": q, "before": before[q], "after": after, "ok": is_correct(after, new_value)})
    agreement = []
    for other in others:
        after = _ask(edited, other.question, max_new_tokens)
        agreement.append(_agreement(edited, other.question, before[other.question]))
        rows["others"].append({"question": other.question, "before": before[other.question], "after": after,
                               "ok": after == before[other.question], "token_agreement": round(agreement[-1], 4)})

    def share(kind):
        return sum(r["ok"] for r in rows[kind]) / len(rows[kind]) if rows[kind] else float("nan")

    locality = sum(agreement) / len(agreement) if agreement else float("nan")
    return share("question"), share("paraphrases"), locality, rows


def _agreement(edited, question: str, answer: str) -> float:
    """Share of ``answer``'s tokens the edited model still predicts first (teacher-forced): EasyEdit's locality.

    A whole-answer match would be too brittle here: closed book the tiny model's guesses are
    near-ties, and any change of the weights may flip one digit of a guessed price.
    """
    from core.llm.confidence import answer_tokens, prompt_ids

    ids, _ = answer_tokens(edited, answer)
    if not ids:
        return 1.0
    prompt = prompt_ids(edited, build_messages(question, None))
    with torch.no_grad():
        logits = edited.model(input_ids=torch.tensor([prompt + ids])).logits[0, len(prompt) - 1: -1]
    return float((logits.argmax(-1) == torch.tensor(ids)).float().mean())


def edited_answer(item: QAItem, new_value: str) -> str:
    """The reference answer with the old value replaced: what the edited model should say.

    >>> edited_answer(QAItem("How much?", "The Blender costs $70.35.", "$70.35"), "$99.00")
    'The Blender costs $99.00.'
    """
    old = item.value or item.target
    pattern = value_pattern(old)
    if not pattern.search(item.answer):
        return f"{item.answer.rstrip('.')} {new_value}."
    return pattern.sub(lambda _: new_value, item.answer)


def subject_of(item: QAItem) -> str:
    """The entity the fact is about (world Q&A rows carry it as ``entity``)."""
    subject = str(item.extra.get("entity") or item.extra.get("subject") or "").strip()
    if not subject:
        raise ConfigError("this Q&A row names no entity (an 'entity' field), so there is no subject to edit")
    return subject


def edit_fact_in_weights(gen, item: QAItem, new_value: str, *, others: Sequence[QAItem] = (),
                         texts: Sequence[str] = (), config: EditConfig = EditConfig(),
                         max_new_tokens: int = 32, on_progress: Callable[[float, str], None] | None = None,
                         should_stop: Callable[[], bool] | None = None) -> EditResult:
    """Edit ``item``'s fact to ``new_value`` in a copy of ``gen``'s weights, and measure the edit.

    ``others``: Q&A rows about other entities (locality); ``texts``: documents whose keys
    estimate ``C`` (defaults to the answers of ``others`` and ``item``).
    """
    from core.llm.loading import Generator

    new_value = (new_value or "").strip()
    if not new_value:
        raise ConfigError("Type the new value of the fact first.")
    if new_value == (item.value or item.target):
        raise ConfigError(f"The new value is the same as the old one ({new_value!r}).")
    if getattr(gen.model.config, "is_encoder_decoder", False):
        raise ConfigError("a rank-one edit of a decoder MLP needs a decoder-only model (not encoder-decoder)")
    subject = subject_of(item)
    others = [o for o in others if subject_of_or_none(o) != subject]
    t0 = time.perf_counter()
    target = edited_answer(item, new_value)
    ids, subj, start = _encode(gen, item.question, target, subject)
    texts = list(texts) or [it.answer for it in [item, *others]]
    # the last layer's MLP at the subject cannot reach the answer tokens (no attention after it)
    layers = config.layers if config.layers is not None else tuple(range(max(1, n_layers(gen.model) - 1)))
    before = {q: _ask(gen, q, max_new_tokens) for q in [item.question, *item.paraphrases, *(o.question for o in others)]}
    best: tuple[float, LayerTrial, object, dict] | None = None
    trials = []
    for i, layer in enumerate(layers):
        if on_progress:
            on_progress(i / len(layers), f"editing layer {layer}")
        edited_model = copy.deepcopy(gen.model)
        module = _mlp_out(edited_model, layer)
        c = second_moment(gen, _mlp_out(gen.model, layer), texts)
        c_inv = torch.linalg.inv(c + config.ridge * c.diagonal().mean() * torch.eye(len(c), dtype=c.dtype))
        key = _keys(gen.model, _mlp_out(gen.model, layer), [ids], [subj])[0]
        u = _direction(key, c_inv)
        delta, moved = _find_value(edited_model, module, ids, start, u, config, should_stop)
        _rank_one(module, delta, u)
        edited_model.eval()
        edited = Generator(edited_model, gen.tokenizer, f"{gen.name} (edited, layer {layer})", gen.is_builtin,
                           gen.n_params, gen.context_window, gen.is_seq2seq, gen.profile)
        rel, gen_, loc, rows = _measure(gen, edited, item, new_value, others, before, max_new_tokens)
        trial = LayerTrial(layer, rel, gen_, loc, moved)
        trials.append(trial)
        if best is None or trial.score > best[0]:
            best = (trial.score, trial, edited, rows)
    if on_progress:
        on_progress(1.0, "done")
    _, trial, edited, rows = best
    return EditResult(item.question, subject, item.value or item.target, new_value, trial.layer, trial.reliability,
                      trial.generality, trial.locality, rows, trials, time.perf_counter() - t0, edited)


def locality_questions(qa: Sequence[QAItem], item: QAItem, n: int) -> list[QAItem]:
    """Up to ``n`` rows about other entities, spread over the set (the locality check)."""
    subject = subject_of_or_none(item)
    others = [o for o in qa if subject_of_or_none(o) not in (None, subject)]
    step = max(1, len(others) // max(1, n))
    return others[::step][:n]


def subject_of_or_none(item: QAItem) -> str | None:
    try:
        return subject_of(item)
    except ConfigError:
        return None
