"""LoRA (and full) fine-tuning of a causal LM on Q&A pairs or document text, measured as it trains.

``train`` runs a plain, seeded torch loop on a *copy* of the base model (the
cached base is never touched). Every ``eval_every`` steps it measures eval loss
on the held-out split and, by batched greedy generation, **facts recalled**
(closed-book accuracy on the training questions), paraphrase recall, a
forgetting check on general questions and **open-book accuracy** (the question
with its passage in context: LoRA+RAG). ``metrics.json`` in the run folder is
rewritten atomically as it goes, so a page refresh or a restart can show a run
from disk. Saving, loading, listing and exporting adapters live in ``core.finetune.io``
(re-exported here).

>>> cfg = FinetuneConfig(rank=8, target_modules=("q_proj", "v_proj"))     # doctest: +SKIP
>>> run = train(model, tokenizer, build_data(tokenizer, items, cfg), cfg, "out/run1")   # doctest: +SKIP
>>> run.summary()["facts_recalled"]                                      # doctest: +SKIP
0.92
"""

from __future__ import annotations

import copy
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from core.rag.corpora import QAItem
from core.errors import ConfigError, check_numbers
from core.finetune.data import FinetuneData
from core.finetune.evaluate import evaluate as evaluate_run  # not "evaluate": that name is the submodule
from core.finetune.evaluate import recall_ceiling  # noqa: F401  (re-exported)
from core.finetune.step import train_step
from core.finetune.io import (  # noqa: F401  (re-exported: the public API lives in core.finetune)
    AdapterInfo, adapter_base, adapter_fits, base_fingerprint, check_adapter_base, delete_adapter, save_training_items, export_adapter_zip, list_adapters, load_adapter, merge_adapter, read_metrics, save_model,
)
from core.runtime.threads import few_core_threads, torch_threads
from core.runtime.workspace import atomic_write_json

METHODS = ("lora", "full")
DATA_KINDS = ("qa", "text")
LOSS_ON = ("answer", "all")
# Attention AND MLP: measured on world_arcade, 20 steps recalled 60% of facts vs 22% for q,k,v,o only
# (the MLP layers are where a transformer stores facts).
DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
MAX_STEPS = 100_000  # ~14 h at the Lab's fastest 2 steps/s: anything longer is a typo, not a plan
MAX_EPOCHS = 1_000
WRITE_EVERY = 5  # steps between metrics.json rewrites while training
# Examples per forward pass. Memory follows this, not the data set: a real model's activations per padded
# position are megabytes. The built-in model's default 64-example batch runs as 4 length-bucketed passes.
MICRO_BATCH = 16


@dataclass(frozen=True)
class FinetuneConfig:
    method: str = "lora"  # "lora" trains small low-rank adapters; "full" updates every weight (for comparison)
    rank: int = 16  # r: width of the low-rank update; more = more capacity and a bigger adapter
    alpha: float = 32.0  # the update is scaled by alpha/r; 2×rank is a common start
    dropout: float = 0.0  # LoRA dropout; 0 because here we *want* to memorise the facts
    target_modules: tuple[str, ...] = DEFAULT_TARGETS  # which linear layers get adapters (all, by default)
    learning_rate: float = 1e-2  # high for memorising in few steps; LoRA tolerates ~10× the LR of full fine-tuning
    epochs: int = 40  # passes over the training set (measured: 40 full-batch steps recalled 100% of 45 facts) …
    max_steps: int = 0  # … unless this is > 0, which caps the run at exactly this many optimiser steps
    batch_size: int = 64  # small sets fit in one batch: full-batch steps are the fastest way to memorise
    seed: int = 0  # seeds data order, the split and the adapter initialisation
    data: str = "qa"  # "qa" = supervised Q&A pairs; "text" = continued pretraining on document text
    paraphrases: int = 0  # also train on this many paraphrases of each question (augmentation)
    open_book_mix: float = 0.25  # fraction of facts also shown WITH their passage, so LoRA+RAG keeps reading
    eval_every: int = 10  # steps between evaluations (generation is the slow part)
    val_fraction: float = 0.1  # facts held out of training, for the eval loss
    max_new_tokens: int = 40  # eval answers are cut here (the value usually comes early)
    max_eval_questions: int = 48  # per metric, to keep evaluation cheap on 2 CPU cores
    micro_batch_size: int = MICRO_BATCH  # examples per forward pass; gradients accumulate up to batch_size
    gradient_checkpointing: bool = False  # recompute activations in backward: less memory, ~30% more time
    max_facts: int = 0  # > 0: train on this many facts (a seeded sample), for a quick run on a real model
    stop_at_recall: float = 0.0  # > 0: stop once facts recalled reaches this (checked at each evaluation)
    # Share of the transformer blocks, counted from the top, that get adapters. 0.5 leaves the lower half frozen:
    # nothing below needs a gradient, so the backward pass ends halfway (core.finetune.layers).
    upper_layers: float = 1.0
    loss_on: str = "answer"  # "answer": learn the answer tokens only (the prompt is given); "all": the prompt too
    bf16: bool = False  # bfloat16 autocast in training steps (fast on CPUs with AMX / AVX-512 BF16); evals stay fp32
    threads: int = 0  # torch threads while training; 0 = the Lab's rule (1 on ≤ 2 cores: see core.runtime.threads)

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_modules", tuple(self.target_modules))
        check_numbers(
            whole={k: getattr(self, k) for k in ("rank", "epochs", "max_steps", "batch_size", "seed", "paraphrases",
                                                 "eval_every", "max_new_tokens", "max_eval_questions",
                                                 "micro_batch_size", "max_facts", "threads")},
            real={k: getattr(self, k) for k in ("alpha", "dropout", "learning_rate", "open_book_mix", "val_fraction",
                                                "stop_at_recall", "upper_layers")})
        checks = [
            (self.method in METHODS, f"method must be one of {', '.join(METHODS)} (got {self.method!r})"),
            (1 <= self.rank <= 256, f"rank must be between 1 and 256 (got {self.rank}); 4 to 32 is typical"),
            (0 < self.alpha <= 4096, f"alpha must be greater than 0 and at most 4096 (got {self.alpha}); 2 × rank is typical"),
            (0 <= self.dropout < 1, f"dropout must be at least 0 and below 1 (got {self.dropout})"),
            (self.method == "full" or len(self.target_modules) > 0, "target_modules must name at least one layer for LoRA"),
            (0 < self.learning_rate <= 1,
             f"learning_rate must be greater than 0 and at most 1 (got {self.learning_rate}); try 1e-4 to 1e-2"),
            (self.epochs >= 1 or self.max_steps >= 1, f"epochs or max_steps must be at least 1 (got {self.epochs}, {self.max_steps})"),
            (0 <= self.epochs <= MAX_EPOCHS, f"epochs must be between 0 and {MAX_EPOCHS:,} (got {self.epochs})"),
            (0 <= self.max_steps <= MAX_STEPS,
             f"max_steps must be 0 (use epochs) or at most {MAX_STEPS:,} (got {self.max_steps:,})"),
            (1 <= self.batch_size <= 4096, f"batch_size must be between 1 and 4096 (got {self.batch_size})"),
            (0 <= self.seed < 2**32, f"seed must be between 0 and 2**32 - 1 (got {self.seed})"),
            (self.data in DATA_KINDS, f"data must be one of {', '.join(DATA_KINDS)} (got {self.data!r})"),
            (0 <= self.paraphrases <= 20, f"paraphrases must be between 0 and 20 (got {self.paraphrases})"),
            (0 <= self.open_book_mix <= 1, f"open_book_mix must be between 0 and 1 (got {self.open_book_mix})"),
            (1 <= self.eval_every <= MAX_STEPS, f"eval_every must be between 1 and {MAX_STEPS:,} (got {self.eval_every})"),
            (0 <= self.val_fraction < 1, f"val_fraction must be at least 0 and below 1 (got {self.val_fraction})"),
            (1 <= self.max_new_tokens <= 256, f"max_new_tokens must be between 1 and 256 (got {self.max_new_tokens})"),
            (1 <= self.max_eval_questions <= 10_000,
             f"max_eval_questions must be between 1 and 10,000 (got {self.max_eval_questions})"),
            (0 <= self.micro_batch_size <= 4096,
             f"micro_batch_size must be 0 (the whole batch) to 4,096 (got {self.micro_batch_size})"),
            (0 <= self.max_facts <= 100_000, f"max_facts must be 0 (all) to 100,000 (got {self.max_facts})"),
            (0 <= self.stop_at_recall <= 1, f"stop_at_recall must be between 0 (off) and 1 (got {self.stop_at_recall})"),
            (0 < self.upper_layers <= 1,
             f"upper_layers must be greater than 0 and at most 1 (got {self.upper_layers}); 0.5 adapts the upper half"),
            (self.loss_on in LOSS_ON, f"loss_on must be one of {', '.join(LOSS_ON)} (got {self.loss_on!r})"),
            (isinstance(self.bf16, bool), f"bf16 must be true or false (got {self.bf16!r})"),
            (0 <= self.threads <= 256, f"threads must be 0 (the Lab's rule) to 256 (got {self.threads})"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FinetuneConfig":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


# --- parameters, before training ---------------------------------------------------

@dataclass(frozen=True)
class ParamReport:
    trainable: int
    total: int  # parameters of the model as trained (base + adapter for LoRA)
    percent: float  # trainable / total × 100
    adapter_mb: float  # size of the saved weights in float32 (the adapter, or the whole model for "full")
    train_state_mb: float = 0.0  # gradients + two AdamW moments for the trainable weights (12 bytes each)


def _adaptable_types() -> tuple[type, ...]:
    """Layer types peft's LoRA can wrap and that hold a transformer's weights: Linear, and GPT-2's Conv1D."""
    from transformers.pytorch_utils import Conv1D

    return (torch.nn.Linear, Conv1D)


def _adaptable(model):
    """(short name, module) for every layer LoRA can target; the output head is left out."""
    types = _adaptable_types()
    for name, mod in model.named_modules():
        short = name.rsplit(".", 1)[-1]
        if isinstance(mod, types) and short not in {"lm_head", "score", "classifier"}:
            yield short, mod


def _in_out(mod) -> tuple[int, int]:
    """(in, out) features: a Linear's weight is (out, in); a Conv1D's is (in, out)."""
    if isinstance(mod, torch.nn.Linear):
        return mod.in_features, mod.out_features
    return mod.weight.shape[0], mod.weight.shape[1]


def lora_target_candidates(model) -> list[str]:
    """Names of the layers LoRA can target, per architecture (q_proj … down_proj; GPT-2 c_attn, c_proj, c_fc;
    T5 q, k, v, o, wi_0, wi_1, wo); the output head is excluded."""
    return sorted({short for short, _ in _adaptable(model)})


def attention_targets(model) -> tuple[str, ...]:
    """The query and value projections under this architecture's names (peft's defaults), e.g. q_proj, v_proj."""
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as DEFAULTS

    candidates = lora_target_candidates(model)
    model_type = getattr(getattr(model, "config", None), "model_type", "")
    named = [t for t in DEFAULTS.get(model_type, []) if t in candidates]
    guess = [t for t in ("q_proj", "v_proj", "q", "v", "query", "value", "c_attn") if t in candidates]
    return tuple(named or guess or candidates[:2])


def all_targets(model) -> tuple[str, ...]:
    """Every attention and MLP layer (the Lab's default for its own model: MLPs are where facts are stored)."""
    candidates = lora_target_candidates(model)
    return tuple(t for t in DEFAULT_TARGETS if t in candidates) if set(DEFAULT_TARGETS) <= set(candidates) \
        else tuple(candidates)


def check_targets(model, config: FinetuneConfig) -> None:
    if config.method != "lora":
        return
    candidates = lora_target_candidates(model)
    unknown = [t for t in config.target_modules if t not in candidates]
    if unknown:
        raise ConfigError(f"target_modules {', '.join(unknown)} not in this model; choose from {', '.join(candidates)}")


def parameter_report(model, config: FinetuneConfig) -> ParamReport:
    """Trainable parameters and adapter size, computed from layer shapes: r × (in + out) per targeted layer."""
    check_targets(model, config)
    base = sum(p.numel() for p in model.parameters())  # tied weights are counted once
    if config.method == "full":
        return ParamReport(base, base, 100.0, round(base * 4 / 1e6, 3), round(base * 12 / 1e6, 3))
    from core.finetune.layers import adapted_layers, block_index

    indices, pattern = adapted_layers(model, config.upper_layers)
    chosen = None if indices is None else set(indices)
    trainable = sum(config.rank * sum(_in_out(mod)) for name, mod in model.named_modules()
                    if isinstance(mod, _adaptable_types()) and name.rsplit(".", 1)[-1] in config.target_modules
                    and (chosen is None or block_index(name, pattern) in chosen))
    total = base + trainable
    return ParamReport(trainable, total, round(100 * trainable / total, 4), round(trainable * 4 / 1e6, 3),
                       round(trainable * 12 / 1e6, 3))


def prepare_model(base_model, config: FinetuneConfig, copy_base: bool = True):
    """A trainable COPY of ``base_model``: LoRA-wrapped, or fully trainable for method "full".

    ``copy_base=False`` wraps ``base_model`` itself: only for a private model nobody else uses
    (the CLI's), which saves a second copy of the weights in memory.
    """
    from core.llm.generation import is_seq2seq

    check_targets(base_model, config)
    torch.manual_seed(config.seed)
    model = copy.deepcopy(base_model) if copy_base else base_model
    if config.gradient_checkpointing and getattr(model, "supports_gradient_checkpointing", False):
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if config.method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return model
    from peft import LoraConfig, get_peft_model

    from core.finetune.layers import adapted_layers

    layers, pattern = adapted_layers(model, config.upper_layers)
    lora = LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                      target_modules=list(config.target_modules), layers_to_transform=layers, layers_pattern=pattern,
                      task_type="SEQ_2_SEQ_LM" if is_seq2seq(model) else "CAUSAL_LM")
    return get_peft_model(model, lora)


# --- the training loop -------------------------------------------------------------

@dataclass
class TrainingRun:
    """A run's record; ``to_dict()`` is the shape of metrics.json."""

    config: FinetuneConfig
    base_model: str
    params: ParamReport
    data: dict
    out_dir: str | None = None
    status: str = "running"  # running | done | stopped | failed
    steps: list[dict] = field(default_factory=list)  # {step, epoch, loss, lr, tokens_per_s, elapsed, wall}
    evals: list[dict] = field(default_factory=list)  # {step, train_seconds, eval_loss, facts_recalled, …}
    train_seconds: float = 0.0  # time in optimiser steps only
    eval_seconds: float = 0.0
    seconds_to_80: float | None = None  # training seconds until facts recalled first reached 0.8
    message: str = ""
    started_at: float = field(default_factory=time.time)
    base: dict = field(default_factory=dict)  # the base model's fingerprint (core.finetune.io.base_fingerprint)
    model: object = field(default=None, repr=False)  # the trained (peft) model, not serialised

    def summary(self) -> dict:
        last_eval = self.evals[-1] if self.evals else {}
        return {
            "final_train_loss": self.steps[-1]["loss"] if self.steps else None,
            "final_eval_loss": last_eval.get("eval_loss"),
            "facts_recalled": last_eval.get("facts_recalled"),
            "open_book_accuracy": last_eval.get("open_book_accuracy"),
            "paraphrase_recalled": last_eval.get("paraphrase_recalled"),
            "general_recalled": last_eval.get("general_recalled"),
            "seconds": round(self.train_seconds + self.eval_seconds, 2),
            "train_seconds": round(self.train_seconds, 2),
            "seconds_per_step": round(self.train_seconds / len(self.steps), 4) if self.steps else None,
            "seconds_to_80": self.seconds_to_80,
            "trainable_params": self.params.trainable,
            "total_params": self.params.total,
            "steps": len(self.steps),
            "adapter_dir": self.out_dir,
            "status": self.status,
        }

    def to_dict(self) -> dict:
        return {"status": self.status, "message": self.message, "config": self.config.to_dict(),
                "base_model": self.base_model, "base": self.base, "params": asdict(self.params), "data": self.data,
                "steps": self.steps, "evals": self.evals, "summary": self.summary(), "started_at": self.started_at}

    def write(self) -> None:
        if self.out_dir:
            atomic_write_json(Path(self.out_dir) / "metrics.json", self.to_dict())


def lr_at(step: int, total: int, peak: float) -> float:
    """Linear warm-up over the first 10% (at most 5 steps), then cosine decay to 10% of the peak."""
    warm = min(5, max(1, total // 10))
    if step < warm:
        return peak * (step + 1) / warm
    frac = (step - warm) / max(1, total - warm)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def batch_plan(n: int, config: FinetuneConfig) -> list[tuple[int, list[int]]]:
    """(epoch, example indices) for every step, seeded; max_steps cycles through epochs as needed."""
    rng = random.Random(config.seed)
    per_epoch = math.ceil(n / config.batch_size)
    total = config.max_steps or config.epochs * per_epoch
    out, epoch = [], 0
    while len(out) < total:
        order = list(range(n))
        rng.shuffle(order)
        out += [(epoch, order[i:i + config.batch_size]) for i in range(0, n, config.batch_size)]
        epoch += 1
    return out[:total]


def train(
    base_model,
    tokenizer,
    data: FinetuneData,
    config: FinetuneConfig,
    out_dir: str | Path | None = None,
    *,
    base_name: str = "",
    general_items: Sequence[QAItem] = (),
    on_step: Callable[[dict], None] | None = None,
    on_eval: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    threads: int | None = None,
    copy_base: bool = True,
) -> TrainingRun:
    """Fine-tune a copy of ``base_model`` on ``data``; save to ``out_dir`` (adapter + metrics.json) if given.

    A ``should_stop()`` that turns true ends the run cleanly after the current step
    (status "stopped"; what was learned so far is evaluated and saved). ``threads`` sets torch's
    intra-op threads for the run (default: ``training_threads()``), restored afterwards. ``copy_base=False``
    trains ``base_model`` itself (see ``prepare_model``).
    """
    threads = (config.threads or training_threads()) if threads is None else threads
    with torch_threads(threads):
        report = parameter_report(base_model, config)  # before prepare_model: copy_base=False wraps base_model
        base = base_fingerprint(base_model, base_name)  # the adapter carries its base: loaded only on it
        model = prepare_model(base_model, config, copy_base)
        return _train(model, report, tokenizer, data, config, out_dir, base_name, general_items, on_step,
                      on_eval, should_stop, base)


def training_threads() -> int:
    """Threads for LoRA training: 1 on machines with ≤ 2 cores (see ``core.runtime.threads``)."""
    return few_core_threads()


def _train(model, report: ParamReport, tokenizer, data, config, out_dir, base_name, general_items, on_step, on_eval,
           should_stop, base: dict | None = None) -> TrainingRun:
    if not data.train:
        raise ConfigError("The training set is empty.")
    run = TrainingRun(config, base_name, report, {
        "train_examples": len(data.train), "val_examples": len(data.val), "kinds": data.counts(),
        "facts": len(data.train_items), "held_out_facts": len(data.val_items), "general_questions": len(general_items),
    }, str(out_dir) if out_dir else None, base=base or {})
    run.write()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    plan = batch_plan(len(data.train), config)

    ceiling = recall_ceiling(data, config)

    def do_eval(step: int) -> None:
        t = time.perf_counter()
        row = {"step": step, "train_seconds": round(run.train_seconds, 3),
               **evaluate_run(model, tokenizer, data, config, general_items)}
        run.eval_seconds += time.perf_counter() - t
        run.evals.append(row)
        if run.seconds_to_80 is None and (row.get("facts_recalled") or 0) >= 0.8:
            run.seconds_to_80 = round(run.train_seconds, 2)
        goal = min(config.stop_at_recall, ceiling)
        if config.stop_at_recall and step and (row.get("facts_recalled") or 0) >= goal:
            run.message = f"stopped early at step {step}: facts recalled reached {goal:g}" + (
                "" if goal == config.stop_at_recall else f" (all the reference answers themselves score: {ceiling:g})")
        run.write()
        if on_eval:
            on_eval(row)

    do_eval(0)
    try:
        for step, (epoch, idx) in enumerate(plan, start=1):
            if should_stop and should_stop():
                run.status = "stopped"
                break
            if run.message.startswith("stopped early"):
                break
            row = train_step(model, optimizer, data.train, idx, lr_at(step - 1, len(plan), config.learning_rate),
                             tokenizer.pad_token_id, config.micro_batch_size, config.bf16)
            run.train_seconds += row.pop("seconds")
            row.update(step=step, epoch=epoch, elapsed=round(run.train_seconds, 3),
                       wall=round(time.time() - run.started_at, 3))  # when it ended, on the run's clock
            run.steps.append(row)
            if on_step:
                on_step(row)
            if step % config.eval_every == 0 and step != len(plan):
                do_eval(step)
            elif step % WRITE_EVERY == 0:
                run.write()
        if run.steps and (not run.evals or run.evals[-1]["step"] != len(run.steps)):
            do_eval(len(run.steps))
    except Exception as exc:
        run.status, run.message = "failed", f"{exc.__class__.__name__}: {exc}"
        run.write()
        raise
    if run.status == "running":
        run.status = "done"
    model.eval()
    run.model = model
    if out_dir:
        save_model(model, tokenizer, out_dir)
        save_training_items(data.train_items, out_dir)
    run.write()
    return run
