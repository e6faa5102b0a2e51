"""The training loop: a plain, seeded torch loop on a copy of the base model, measured as it trains.

``train`` never touches the cached base. Every ``eval_every`` steps it measures the run
(``core.finetune.evaluate``: eval loss, facts recalled, paraphrases, forgetting, open-book accuracy);
``metrics.json`` in the run folder (``TrainingRun.to_dict``) is rewritten atomically as it goes, so a
page refresh or a restart can show a run from disk. The weights are saved by ``core.finetune.io``.

>>> [round(lr_at(s, 20, 1e-2), 4) for s in (0, 1, 2, 10, 19)]   # warm-up, then cosine decay to 10%
[0.005, 0.01, 0.01, 0.0063, 0.0011]
>>> [len(idx) for _, idx in batch_plan(10, FinetuneConfig(batch_size=4, epochs=1))]
[4, 4, 2]
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from core.errors import ConfigError
from core.finetune.config import FinetuneConfig
from core.finetune.data import FinetuneData
from core.finetune.evaluate import evaluate, recall_ceiling
from core.finetune.io import base_fingerprint, save_model, save_training_items
from core.finetune.step import train_step
from core.finetune.targets import ParamReport, parameter_report, prepare_model
from core.rag.corpora import QAItem
from core.runtime.threads import few_core_threads, torch_threads
from core.runtime.executor import keeping_where
from core.runtime.workspace import update_json

WRITE_EVERY = 5  # steps between metrics.json rewrites while training


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
        """Write metrics.json, keeping what the job queue wrote there (the run's label, runner and worker)."""
        if self.out_dir:
            update_json(Path(self.out_dir) / "metrics.json", lambda old: keeping_where(old, self.to_dict()), {})


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
               **evaluate(model, tokenizer, data, config, general_items)}
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
