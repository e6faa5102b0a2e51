"""LoRA (and full) fine-tuning of a causal LM on Q&A pairs or document text, measured as it trains.

One module per step of the data flow; the package re-exports their public names, so
``from core.finetune import FinetuneConfig, train`` is the one import callers need:

- ``config``: ``FinetuneConfig``, what a run is asked to do (validated);
- ``targets``: which layers get adapters, what they cost (``parameter_report``), the trainable copy;
- ``data``: the training set (Q&A pairs, document text, paraphrases, the open-book mix);
- ``training``: the seeded loop (``train``) and its record, ``TrainingRun`` (the shape of metrics.json);
- ``evaluate``: eval loss and facts recalled by greedy generation, while it trains;
- ``io``: adapters on disk (save, list, load, export, merge); ``job``: a run as a background job;
  ``presets``: settings by model size and what they cost here.

The training module is ``training``, not ``train``: the package exports the function ``train``, and a
submodule of the same name would be shadowed by it.

>>> cfg = FinetuneConfig(rank=8, target_modules=("q_proj", "v_proj"))     # doctest: +SKIP
>>> run = train(model, tokenizer, build_data(tokenizer, items, cfg), cfg, "out/run1")   # doctest: +SKIP
>>> run.summary()["facts_recalled"]                                      # doctest: +SKIP
0.92
"""

from __future__ import annotations

from core.finetune.config import DEFAULT_TARGETS, MAX_STEPS, FinetuneConfig
from core.finetune.evaluate import recall_ceiling
from core.finetune.io import (
    AdapterInfo, adapter_base, adapter_fits, base_fingerprint, check_adapter_base, delete_adapter, export_adapter_zip,
    list_adapters, load_adapter, merge_adapter, read_metrics, save_model, save_training_items,
)
from core.finetune.targets import (
    ParamReport, all_targets, attention_targets, check_targets, lora_target_candidates, parameter_report, prepare_model,
)
from core.finetune.training import TrainingRun, batch_plan, lr_at, train, training_threads

__all__ = [
    "AdapterInfo", "DEFAULT_TARGETS", "FinetuneConfig", "MAX_STEPS", "ParamReport", "TrainingRun", "adapter_base",
    "adapter_fits", "all_targets", "attention_targets", "base_fingerprint", "batch_plan", "check_adapter_base",
    "check_targets", "delete_adapter", "export_adapter_zip", "list_adapters", "load_adapter", "lora_target_candidates",
    "lr_at", "merge_adapter", "parameter_report", "prepare_model", "read_metrics", "recall_ceiling", "save_model",
    "save_training_items", "train", "training_threads",
]
