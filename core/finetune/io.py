"""Fine-tuned weights on disk: save, list, load, delete, export and merge.

A run folder holds ``metrics.json`` (see ``core.finetune.TrainingRun.to_dict``) and,
once training ends, the weights written by ``save_pretrained``: for LoRA
``adapter_model.safetensors`` + ``adapter_config.json``; for full fine-tuning
``model.safetensors`` + ``config.json``.

>>> gen = load_adapter(base_generator, "workspace/adapters/run1")   # doctest: +SKIP
>>> gen.name                                                        # doctest: +SKIP
'lab-tiny-lm+run1'
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import json
import os
import shutil
import tempfile
import threading
import weakref
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.errors import AdapterError
from core.runtime.workspace import atomic_write_bytes, read_json

LORA_FILES = ("adapter_config.json", "adapter_model.safetensors")
FULL_FILES = ("config.json", "model.safetensors")


def save_model(model, tokenizer, out_dir: str | Path) -> Path:
    """``save_pretrained`` into a temporary folder, then move each file in (readers never see half a file)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".save-") as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        for path in Path(tmp).iterdir():
            if path.is_file():
                os.replace(path, out_dir / path.name)
    return out_dir


def save_training_items(items, out_dir: str | Path) -> Path:
    """The Q&A rows a run trained on, as ``train_qa.jsonl`` (answers can cite the example behind them)."""
    rows = [{"question": it.question, "answer": it.answer, "value": it.value, "paraphrases": list(it.paraphrases),
             "document": it.document} for it in items]
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    return atomic_write_bytes(Path(out_dir) / "train_qa.jsonl", data)


def read_metrics(run_dir: str | Path) -> dict | None:
    """A run's metrics.json, or None when it is missing or unreadable."""
    return read_json(Path(run_dir) / "metrics.json")


def weights_kind(run_dir: str | Path) -> str | None:
    """"lora", "full", or None when the folder holds no complete weights."""
    run_dir = Path(run_dir)
    for kind, files in (("lora", LORA_FILES), ("full", FULL_FILES)):
        if all((run_dir / f).is_file() for f in files):
            return kind
    return None


@dataclass(frozen=True)
class AdapterInfo:
    name: str  # folder name
    path: Path
    status: str  # queued | running | done | stopped | failed | interrupted
    has_weights: bool
    config: dict
    summary: dict
    base_model: str = ""
    started_at: float = 0.0


def list_adapters(folder: str | Path) -> list[AdapterInfo]:
    """Every run folder under ``folder`` that has a metrics.json, newest first."""
    out = []
    for run_dir in Path(folder).glob("*/"):
        metrics = read_metrics(run_dir)
        if not isinstance(metrics, dict):
            continue
        out.append(AdapterInfo(run_dir.name, run_dir, metrics.get("status", "unknown"), weights_kind(run_dir) is not None,
                               metrics.get("config") or {}, metrics.get("summary") or {},
                               metrics.get("base_model", ""), float(metrics.get("started_at") or 0)))
    return sorted(out, key=lambda a: (-a.started_at, a.name))


class AdapterView:
    """One adapter of a shared LoRA host: every call switches the host to this adapter first, under a lock.

    The host is ONE copy of the base model wrapped by peft; each adapter loaded for that
    base is added to it (``load_adapter``) instead of deep-copying the base again, so ten
    adapters of a 500M model cost ten small LoRA weight files, not ten 2 GB copies.
    """

    def __init__(self, host, adapter: str, lock: threading.RLock) -> None:
        self._host, self._adapter, self._lock = host, adapter, lock

    def _activate(self):
        if self._host.active_adapter != self._adapter:
            self._host.set_adapter(self._adapter)
        return self._host

    def __call__(self, *args, **kwargs):
        with self._lock:
            return self._activate()(*args, **kwargs)

    forward = __call__

    def generate(self, *args, **kwargs):
        with self._lock:
            return self._activate().generate(*args, **kwargs)

    def merged(self):
        """A plain model with this adapter folded into a copy of the weights."""
        with self._lock:
            return copy.deepcopy(self._activate()).merge_and_unload(adapter_names=[self._adapter])

    def __getattr__(self, name):  # config, generation_config, parameters, eval, get_encoder, …
        return getattr(self._host, name)


_HOSTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # base model → (peft host, lock)
_HOSTS_LOCK = threading.Lock()


def _adapter_name(adapter_dir: Path) -> str:
    """A module-safe name for this folder's current weights (a re-saved adapter gets a new one)."""
    stamp = (adapter_dir / LORA_FILES[1]).stat().st_mtime_ns
    return "a" + hashlib.sha1(f"{adapter_dir.resolve()}:{stamp}".encode()).hexdigest()[:12]


def _lora_view(base_model, adapter_dir: Path) -> AdapterView:
    """This adapter on the base model's shared host (created, from one copy of the base, on first use)."""
    from peft import PeftModel

    name = _adapter_name(adapter_dir)
    with _HOSTS_LOCK:
        entry = _HOSTS.get(base_model)
        if entry is None:  # the shared base is never wrapped in place: the host wraps a copy, once
            host = PeftModel.from_pretrained(copy.deepcopy(base_model), str(adapter_dir), adapter_name=name)
            entry = _HOSTS[base_model] = (host, threading.RLock())
    host, lock = entry
    with lock:
        if name not in host.peft_config:
            host.load_adapter(str(adapter_dir), adapter_name=name)
    return AdapterView(host, name, lock)


def load_adapter(base_generator, adapter_dir: str | Path):
    """A new Generator whose model is the base with this adapter — or the fully fine-tuned model.

    LoRA adapters of one base model share one copy of it (``AdapterView``: peft's adapter
    switching); the base generator is not changed. Missing or corrupt folders raise
    AdapterError with a plain message.
    """
    adapter_dir = Path(adapter_dir)
    if not adapter_dir.is_dir():
        raise AdapterError(f"There is no adapter folder at {adapter_dir}.")
    kind = weights_kind(adapter_dir)
    if kind is None:
        raise AdapterError(f"{adapter_dir.name} has no saved weights (expected {' and '.join(LORA_FILES)}): "
                           "the run may have failed or still be training.")
    try:
        if kind == "lora":
            model = _lora_view(base_generator.model, adapter_dir)
        else:
            from transformers import AutoConfig

            from core.llm.generation import model_class

            model = model_class(AutoConfig.from_pretrained(str(adapter_dir))).from_pretrained(str(adapter_dir))
    except Exception as exc:  # peft/safetensors raise many types for damaged files
        raise AdapterError(f"The adapter in {adapter_dir.name} could not be loaded ({exc.__class__.__name__}): "
                           "its files are damaged or it was trained on a different base model.") from exc
    model.eval()
    return dataclasses.replace(base_generator, model=model, name=f"{base_generator.name}+{adapter_dir.name}")


def delete_adapter(adapter_dir: str | Path) -> None:
    adapter_dir = Path(adapter_dir)
    if adapter_dir.is_dir():
        shutil.rmtree(adapter_dir)


def export_adapter_zip(adapter_dir: str | Path) -> bytes:
    """The run folder (weights, configs, metrics.json) as zip bytes, ready for a download button."""
    adapter_dir = Path(adapter_dir)
    if weights_kind(adapter_dir) is None:
        raise AdapterError(f"{adapter_dir.name} has no saved weights to export.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(adapter_dir.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                zf.write(path, f"{adapter_dir.name}/{path.name}")
    return buffer.getvalue()


def merge_adapter(generator):
    """A Generator whose LoRA update is folded into plain weights (same answers, no adapter overhead)."""
    if isinstance(generator.model, AdapterView):
        merged = generator.model.merged()
    elif hasattr(generator.model, "merge_and_unload"):
        merged = copy.deepcopy(generator.model).merge_and_unload()
    else:
        return generator
    return dataclasses.replace(generator, model=merged, name=f"{generator.name}(merged)")
