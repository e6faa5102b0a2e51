"""Fine-tuned weights on disk: save, list, load, delete, export and merge.

An adapter carries its base: ``metrics.json`` records the base model's name and fingerprint
(``base_fingerprint``: its config and a sample of its embedding weights), and ``load_adapter``
refuses any other base (``check_adapter_base``). ``adapter_base`` says which model to load for it.

A run folder holds ``metrics.json`` (see ``core.finetune.training.TrainingRun.to_dict``) and,
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
    base: dict = dataclasses.field(default_factory=dict)  # base_fingerprint of the model it was trained on


def list_adapters(folder: str | Path) -> list[AdapterInfo]:
    """Every run folder under ``folder`` that has a metrics.json, newest first."""
    out = []
    for run_dir in Path(folder).glob("*/"):
        metrics = read_metrics(run_dir)
        if not isinstance(metrics, dict):
            continue
        out.append(AdapterInfo(run_dir.name, run_dir, metrics.get("status", "unknown"), weights_kind(run_dir) is not None,
                               metrics.get("config") or {}, metrics.get("summary") or {},
                               metrics.get("base_model", ""), float(metrics.get("started_at") or 0),
                               metrics.get("base") or {}))
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


# config keys that say where or how a model was saved, not what it is
_VOLATILE = {"_name_or_path", "transformers_version", "dtype", "torch_dtype", "architectures", "use_cache",
             "_commit_hash", "name_or_path"}


def base_fingerprint(model, name: str = "") -> dict:
    """What identifies a base model: ``{"name", "path", "config_sha", "weights_sha"}``.

    ``config_sha`` hashes the architecture (same shape), ``weights_sha`` a sample of the input embeddings
    (same weights: the tiny LM and the English reader share a config but not their weights). LoRA never
    trains the embeddings, so a base and its adapters keep the same sample.
    """
    import torch

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    cfg = {k: v for k, v in inner.config.to_dict().items() if k not in _VOLATILE}
    config_sha = hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:16]
    with torch.no_grad():
        sample = inner.get_input_embeddings().weight[:64, :64].detach().to(torch.float32).contiguous()
        weights_sha = hashlib.sha256(sample.numpy().round(4).tobytes()).hexdigest()[:16]
    path = str(getattr(inner.config, "_name_or_path", "") or "")
    return {"name": name or Path(path).name, "path": path, "config_sha": config_sha, "weights_sha": weights_sha}


def adapter_base(adapter_dir: str | Path) -> dict:
    """The base an adapter was trained on: its recorded fingerprint, or ``{"name"}`` for older adapters."""
    metrics = read_metrics(adapter_dir) or {}
    base = metrics.get("base") or {}
    return base if base else ({"name": metrics["base_model"]} if metrics.get("base_model") else {})


def base_to_load(adapter_dir: str | Path) -> str | None:
    """The model name or folder to load for this adapter's base (None when it records none)."""
    base = adapter_base(adapter_dir)
    name, path = base.get("name", ""), base.get("path", "")
    from core.llm.profiles import builtin_name

    if builtin_name(name):
        return builtin_name(name)
    if path and Path(path).is_dir():
        return path
    return name or path or None


def _fits(base: dict, generator) -> bool:
    if not base:
        return True  # nothing recorded (a run from before bases were recorded): nothing to check
    if base.get("weights_sha"):
        return base_fingerprint(generator.model) | {"name": "", "path": ""} == base | {"name": "", "path": ""}
    return base.get("name") == generator.name.split("+")[0]


def adapter_fits(info: "AdapterInfo", generator) -> bool:
    """Whether an adapter (from ``list_adapters``) was trained on ``generator``'s model: pages list only these."""
    return _fits(info.base or ({"name": info.base_model} if info.base_model else {}), generator)


def check_adapter_base(generator, adapter_dir: str | Path) -> None:
    """Raise AdapterError (one line) when the adapter in ``adapter_dir`` was trained on another base model."""
    base = adapter_base(adapter_dir)
    if weights_kind(adapter_dir) == "lora" and not _fits(base, generator):
        raise AdapterError(f"the adapter {Path(adapter_dir).name} was trained on {base.get('name') or 'another model'}"
                           f", not on {generator.name}: leave --model out to load its base, or train an adapter "
                           f"for {generator.name}.")


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
    check_adapter_base(base_generator, adapter_dir)
    try:
        if kind == "lora":
            model = _lora_view(base_generator.model, adapter_dir)
        else:
            from transformers import AutoConfig

            from core.llm.loading import model_class

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
