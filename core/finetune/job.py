"""A training run as a background job: the same work in this process or, from its spec, on another machine.

``training_work`` builds the data and trains, reporting each step and evaluation to the job.
In this process it trains the loaded model (a copy of it); a ``TrainingSpec`` holds the same
run as plain data (the model's name, the Q&A items, the config, the run folder) so a Ray
worker can load the model itself and run it: nothing heavy crosses the network.

>>> spec = TrainingSpec("lab-tiny-lm", (), FinetuneConfig(), "ws/adapters/run1")   # doctest: +SKIP
>>> spec(ctx)["facts_recalled"]                                                       # doctest: +SKIP
0.95
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from core.finetune.config import FinetuneConfig
from core.finetune.training import batch_plan, train
from core.rag.corpora import QAItem

BASE_MB = 700.0  # a worker process with torch, transformers and peft imported, before any model


def training_work(ctx, base_model, tokenizer, items: Sequence[QAItem], config: FinetuneConfig, run_dir,
                  documents: dict[str, str] | None, general_items: Sequence[QAItem], base_name: str,
                  copy_base: bool = True, style=None) -> dict:
    """Build the data, train with live progress (``ctx.report``) and a stop flag; the run's summary.

    ``style``: the model's prompt layout (its profile's ``prompt``), so open-book examples match its answers.
    """
    from core.finetune.data import build_data
    from core.llm.loading import is_seq2seq

    data = build_data(tokenizer, items, config, documents, seq2seq=is_seq2seq(base_model), style=style)
    latest: dict = {"done": 0, "total": len(batch_plan(len(data.train), config))}  # the job's progress: steps
    ctx.report(dict(latest))

    def on_step(row: dict) -> None:
        latest.update(row, done=row["step"])
        ctx.report(dict(latest))

    def on_eval(row: dict) -> None:
        latest.update({k: v for k, v in row.items() if k != "step"}, eval_step=row["step"])
        ctx.report(dict(latest))

    run = train(base_model, tokenizer, data, config, run_dir, base_name=base_name, general_items=general_items,
                on_step=on_step, on_eval=on_eval, should_stop=ctx.should_stop, copy_base=copy_base)
    return run.summary()


def training_counts(metrics: dict) -> dict:
    """``{"done", "total"}`` steps of a run from its metrics.json alone (a run another server trains):
    the same counts its job reports while live, for ``core.runtime.jobs.progress_of``."""
    steps, data, config = metrics.get("steps") or [], metrics.get("data") or {}, metrics.get("config") or {}
    total = int(config.get("max_steps") or 0)
    if not total and data.get("train_examples"):  # an epochs run: the plan's length
        total = len(batch_plan(int(data["train_examples"]), FinetuneConfig.from_dict(config)))
    return {"done": steps[-1]["step"] if steps else 0, "total": total}


def memory_estimate_mb(n_params: int, config: FinetuneConfig) -> float:
    """A first memory request before any run of this model was measured: weights, a copy, grads and AdamW."""
    trained = n_params if config.method == "full" else n_params * 0.02
    return round(BASE_MB + n_params * 4 * 2 / 1e6 + trained * 12 / 1e6 + 300, 1)


@dataclass(frozen=True)
class TrainingSpec:
    """A training run as plain data, runnable in any process that has the Lab and the model."""

    model: str  # generator name or absolute path: the worker loads it itself
    items: tuple[QAItem, ...]
    config: FinetuneConfig
    run_dir: str  # adapter + metrics.json go here (a worker without the shared folder writes elsewhere)
    documents: dict[str, str] | None = None
    general_items: tuple[QAItem, ...] = ()
    cpus: int = 1  # the Ray resource request; training uses one thread on a small machine
    memory_mb: float = field(default=2000.0)  # the request until this model's peak was measured

    def __call__(self, ctx) -> dict:
        from core.llm.loading import load_generator

        gen = load_generator(self.model, cache=False)  # private to this job: trained in place, no copy
        return training_work(ctx, gen.model, gen.tokenizer, self.items, self.config, Path(self.run_dir),
                             self.documents, self.general_items, gen.name, copy_base=False, style=gen.profile.prompt)


def model_ref(name: str) -> str:
    """A model name a worker can load: a local folder as an absolute path, a built-in or hub name as is."""
    path = Path(name).expanduser()
    return str(path.resolve()) if path.is_dir() else name


def training_spec(model_name: str, n_params: int, items, config: FinetuneConfig, run_dir,
                  documents=None, general_items=()) -> TrainingSpec:
    return TrainingSpec(model_ref(model_name), tuple(items), config, str(Path(run_dir).resolve()),
                        dict(documents) if documents else None, tuple(general_items),
                        memory_mb=memory_estimate_mb(n_params, config))


# --- background runs ---------------------------------------------------------------

def new_run_dir(folder: str | Path, label: str = "run") -> Path:
    """A fresh, time-stamped run folder name under ``folder`` (e.g. ``adapters/lora-r16-0921-1432``)."""
    from core.runtime.workspace import safe_name

    stamp = time.strftime("%m%d-%H%M%S")
    path = Path(folder) / safe_name(f"{label}-{stamp}")
    n = 1
    while path.exists():
        n += 1
        path = Path(folder) / safe_name(f"{label}-{stamp}-{n}")
    return path


def training_job(owner: str, run_dir: str | Path, base_model, tokenizer, items: Sequence[QAItem],
                 config: FinetuneConfig, *, documents: dict[str, str] | None = None,
                 general_items: Sequence[QAItem] = (), base_name: str = "", label: str = "", style=None):
    """A ``core.runtime.jobs.Job`` that builds the data and trains; progress goes to the job status and metrics.json.

    It also carries the run as a ``TrainingSpec`` (``core.finetune.job``), so a Ray cluster can run it.
    """
    from core.runtime.jobs import Job

    def work(ctx) -> dict:
        return training_work(ctx, base_model, tokenizer, items, config, run_dir, documents, general_items, base_name,
                             style=style)

    spec = training_spec(base_name, sum(p.numel() for p in base_model.parameters()), items, config, run_dir,
                         documents, general_items) if base_name else None
    return Job(owner=str(owner), run_dir=Path(run_dir), work=work, label=label or Path(run_dir).name, spec=spec)


def run_label(config: FinetuneConfig) -> str:
    """The default name of a run: method and rank, and the paraphrases it trains on (``lora-r16-p2``)."""
    label = f"{config.method}-r{config.rank}" if config.method == "lora" else "full"
    return label + (f"-p{config.paraphrases}" if config.paraphrases else "")


def submit_training(owner: str | Path, adapters_dir: str | Path, gen, items: Sequence[QAItem], config: FinetuneConfig,
                    *, documents: dict[str, str] | None = None, label: str = "") -> tuple[str, Path]:
    """Queue a training run of ``gen`` (a ``core.llm.loading.Generator``) on ``items``: the one way pages start one.

    The run gets a fresh folder under ``adapters_dir`` named after ``label`` (default ``run_label``) and
    the forgetting check's general questions for this model. Returns (job id, run folder).
    """
    from core.runtime import jobs
    from core.finetune.forgetting import general_items

    label = label or run_label(config)
    run_dir = new_run_dir(adapters_dir, label)
    job = training_job(str(owner), run_dir, gen.model, gen.tokenizer, items, config, documents=documents,
                       general_items=general_items(gen.profile.forgetting), base_name=gen.name, label=label,
                       style=gen.profile.prompt)
    return jobs.submit(job), run_dir
