"""Training presets chosen by model size, and what a run will cost on THIS machine (measured, not guessed).

A model whose profile lists presets (``models/<name>/lab.json``: the built-in models) gets those,
each a set of ``FinetuneConfig`` fields measured for it. Any other model (Qwen2.5-0.5B, GPT-2,
Flan-T5, a hub SmolLM2) gets presets by size:

- **facts** (the default for a causal LM; ``FACTS``, plain data a model profile can carry): rank 16 on
  every attention and MLP projection of the upper half of the blocks, answer-only loss, full-batch
  steps at lr 3e-3, stopping as soon as every training fact is recalled (docs/english-model.md).
- **quick**: 20 facts, the query/value projections at rank 4, a learning rate for
  pretrained weights, small micro-batches, light evaluation (8 questions), and an early
  stop once facts recalled reaches 0.8. It finishes in minutes on 2 cores.
- **thorough**: every fact, attention and MLP layers at rank 16, the open-book mix and
  full evaluation. It takes longer; ``calibrate`` says how long before it starts.

>>> [p.name for p in presets_for(gen.model, gen.profile)]          # doctest: +SKIP
['quick', 'thorough']
>>> calibrate(gen.model, gen.tokenizer, data, preset.config).total_seconds   # doctest: +SKIP
212.4
"""

from __future__ import annotations

import dataclasses
import gc
import time
from dataclasses import dataclass
from typing import Sequence

import torch

from core.rag.corpora import QAItem
from core.finetune.config import FinetuneConfig
from core.finetune.targets import all_targets, attention_targets, prepare_model
from core.finetune.training import batch_plan, training_threads
from core.finetune.data import FinetuneData
from core.finetune.evaluate import eval_groups, evaluate
from core.finetune.step import Estimate, train_step
from core.runtime.limits import job_memory_refusal
from core.runtime.memory import PeakRSS
from core.runtime.threads import torch_threads

LARGE_PARAMS = 500e6  # above this, checkpoint activations even in the quick preset
CALIBRATION_QUESTIONS = 4  # questions generated to time an evaluation (scaled to the real count)


@dataclass(frozen=True)
class Preset:
    name: str  # "live" | "facts" | "quick" | "thorough", or a profile's own
    label: str
    why: str  # one sentence for the page
    config: FinetuneConfig


# The real-model recipe for facts, as data (a model profile's lab.json holds the same dict under "presets").
# Measured on SmolLM2-135M-Instruct, 20 plain-English pairs, 2 cores: docs/english-model.md.
FACTS = {
    "name": "facts", "label": "Facts (real model, about a minute)",
    "why": "Every attention and MLP projection of the upper half of the blocks at rank 16, answer-only loss, "
           "full-batch steps in bfloat16, stops as soon as every training fact is recalled.",
    "config": {"rank": 16, "alpha": 32.0, "target_modules": "all", "upper_layers": 0.5, "learning_rate": 3e-3,
               "max_steps": 20, "batch_size": 32, "micro_batch_size": 0, "eval_every": 5, "max_eval_questions": 32,
               "max_new_tokens": 32, "val_fraction": 0.0, "open_book_mix": 0.0, "stop_at_recall": 1.0,
               "loss_on": "answer", "bf16": True, "threads": 0},
}
TARGET_ALIASES = {"all": all_targets, "attention": attention_targets}  # a preset's target_modules by role


def presets_for(model, profile) -> list[Preset]:
    """The presets for this model, the default first: its profile's (``core.llm.profiles.ModelProfile``), else by
    size. ``profile`` may also be a bool, as before profiles: True = the built-in tiny LM's, False = by size."""
    if isinstance(profile, bool):
        from core.llm.profiles import ModelProfile, load_profile

        profile = load_profile(None) if profile else ModelProfile()
    if profile.presets:
        return [Preset(p.name, p.label, p.why, _config(model, p.config)) for p in profile.presets]
    from core.llm.loading import is_seq2seq

    big = n_params(model) > LARGE_PARAMS
    quick = FinetuneConfig(
        rank=4, alpha=8.0, target_modules=attention_targets(model),
        learning_rate=2e-3,  # pretrained weights: ~5× lower than the built-in's 1e-2, still enough for 15 steps
        max_steps=15, batch_size=20, micro_batch_size=4, eval_every=5, max_eval_questions=8, max_new_tokens=24,
        max_facts=20, val_fraction=0.0, open_book_mix=0.0, stop_at_recall=0.8, gradient_checkpointing=big)
    thorough = FinetuneConfig(
        rank=16, alpha=32.0, target_modules=all_targets(model), learning_rate=5e-4, epochs=8, batch_size=16,
        micro_batch_size=4, eval_every=10, max_eval_questions=24, max_new_tokens=32, gradient_checkpointing=big)
    others = [Preset("quick", "Quick (minutes)", "20 facts, query/value layers at rank 4, stops at 80% recalled.",
                     quick),
              Preset("thorough", "Thorough", "Every fact, attention and MLP layers at rank 16, the open-book mix.",
                     thorough)]
    return others if is_seq2seq(model) else [preset_from_dict(FACTS, model), *others]


def _config(model, fields: dict) -> FinetuneConfig:
    """A preset's fields over FinetuneConfig's defaults; "all" / "attention" name this model's layers.

    Unknown fields raise ConfigError (a typo in a profile must not silently fall back to a default); a large
    model recomputes activations unless the preset says otherwise.
    """
    from core.errors import ConfigError

    fields = dict(fields)
    unknown = sorted(set(fields) - set(FinetuneConfig.__dataclass_fields__))
    if unknown:
        raise ConfigError(f"a training preset has unknown settings: {', '.join(unknown)}")
    targets = fields.get("target_modules")
    if isinstance(targets, str):
        if targets not in TARGET_ALIASES:
            raise ConfigError(f"preset target_modules must be a list or one of {', '.join(TARGET_ALIASES)} "
                              f"(got {targets!r})")
        fields["target_modules"] = TARGET_ALIASES[targets](model)
    if n_params(model) > LARGE_PARAMS:
        fields.setdefault("gradient_checkpointing", True)
    return FinetuneConfig(**fields)


def preset_from_dict(d: dict, model) -> Preset:
    """A Preset from its data (``FACTS``, or a profile's ``presets`` entry), resolved for ``model``."""
    return Preset(str(d["name"]), str(d.get("label", d["name"])), str(d.get("why", "")), _config(model, d.get("config") or {}))


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def preset_named(model, profile, name: str = "auto") -> Preset:
    """A preset by name ("auto" = the default for this model); ConfigError when the model has no such preset."""
    from core.errors import ConfigError

    presets = presets_for(model, profile)
    if name == "auto":
        return presets[0]
    for preset in presets:
        if preset.name == name:
            return preset
    raise ConfigError(f"preset {name!r} is not offered for this model; choose from "
                      f"{', '.join(p.name for p in presets)} (or auto)")


def planned_evals(steps: int, eval_every: int) -> int:
    """Evaluations a run makes: before training, every ``eval_every`` steps, and after the last step."""
    return 1 + len(range(eval_every, steps, eval_every)) + 1


def _heaviest_step(base_model, tokenizer, data: FinetuneData, config: FinetuneConfig, plan) -> tuple:
    """(trained copy, seconds, CPU seconds) of one real step on the run's batch that holds its longest example.

    WHY that batch: a step's memory grows with the square of its longest example, so the first batch could
    pass a memory check that a later one fails.
    """
    def longest(step) -> int:
        return max(len(data.train[i].input_ids) + len(data.train[i].labels) for i in step[1])

    heaviest = max(plan, key=longest)
    model = prepare_model(base_model, config)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
    cpu = time.process_time()
    seconds = train_step(model, optimizer, data.train, heaviest[1], config.learning_rate, tokenizer.pad_token_id,
                         config.micro_batch_size, config.bf16)["seconds"]
    return model, seconds, time.process_time() - cpu


def memory_refusal(base_model, tokenizer, data: FinetuneData, config: FinetuneConfig) -> str | None:
    """Why this run must not start, or None: the peak resident memory of one real step on its heaviest batch
    (measured on a copy of the model) against the server's per-job limit (``RAGFT_MAX_JOB_MEMORY_MB``).

    The CLI's gate before ``finetune`` starts; the Fine-tuning page applies the same limit to the same
    measurement, made by ``calibrate`` ("Measure time and memory").
    """
    with torch_threads(config.threads or training_threads()), PeakRSS() as memory:
        model, _, _ = _heaviest_step(base_model, tokenizer, data, config, batch_plan(len(data.train), config))
        del model
        gc.collect()
    return job_memory_refusal(memory.peak_mb)


def calibrate(base_model, tokenizer, data: FinetuneData, config: FinetuneConfig,
              general_items: Sequence[QAItem] = ()) -> Estimate:
    """Train one real step (the run's heaviest batch) and time one small evaluation, on a copy of the model.

    The time per step and the peak resident memory (weights, optimiser state and
    activations) are measured; the evaluation time is scaled from ``CALIBRATION_QUESTIONS``
    questions to the number a real evaluation asks.
    """
    plan = batch_plan(len(data.train), config)
    with torch_threads(config.threads or training_threads()), PeakRSS() as memory:
        model, step_s, step_cpu = _heaviest_step(base_model, tokenizer, data, config, plan)
        small = dataclasses.replace(config, max_eval_questions=CALIBRATION_QUESTIONS)
        t, cpu = time.perf_counter(), time.process_time()
        evaluate(model, tokenizer, dataclasses.replace(data, val=data.val[:CALIBRATION_QUESTIONS]), small,
                 general_items)
        eval_s, eval_cpu = time.perf_counter() - t, time.process_time() - cpu
    asked = sum(len(rows) for rows in eval_groups(data, small, general_items).values())
    full = sum(len(rows) for rows in eval_groups(data, config, general_items).values())
    scale = max(1.0, full / max(1, asked))
    eval_s, eval_cpu = eval_s * scale, eval_cpu * scale
    del model
    gc.collect()
    n_evals = planned_evals(len(plan), config.eval_every)
    return Estimate(round(step_s, 3), round(eval_s, 2), len(plan), n_evals,
                    round(len(plan) * step_s + n_evals * eval_s, 1), round(memory.peak_mb, 1),
                    round(memory.peak_mb - memory.start_mb, 1), round(step_cpu, 3), round(eval_cpu, 2))
