"""A job's spec as JSON: saved in its run folder, so a retry after an app restart can rebuild the job.

A spec is a frozen dataclass of plain data (``core.finetune.job.TrainingSpec``,
``core.evaluation_job.EvaluationSpec``): names, texts, configs, other such dataclasses. ``encode``
writes it as JSON with each dataclass tagged by its class; ``decode`` builds it again through the
class's own constructor, so ``__post_init__`` validates what was read. Only the plain-data classes
named in ``SPEC_TYPES`` are ever rebuilt: a file in a shared folder cannot make the app build anything else.

>>> import json
>>> from core.rag.corpora import QAItem
>>> item = QAItem("Who owns it?", "Ada owns it.", "Ada", paraphrases=("Whose is it?",))
>>> decode(json.loads(json.dumps(encode(item)))) == item
True
>>> decode({"__class__": "os:system"})
Traceback (most recent call last):
...
ValueError: a job spec names os:system, which is not one of the plain-data classes a spec may hold
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

from core.runtime.workspace import atomic_write_json, read_json

SPEC_FILE = "job.json"  # in the run folder, beside metrics.json
SPEC_TYPES = frozenset({  # what a spec may hold: the job specs and the plain data inside them
    "core.finetune.job:TrainingSpec", "core.evaluation_job:EvaluationSpec", "core.finetune.config:FinetuneConfig",
    "core.rag.corpora:QAItem", "core.rag.documents:Document", "core.rag.chunking:ChunkConfig",
    "core.rag.index:IndexConfig", "core.answering:Decoding",
})


def encode(value):
    """``value`` as JSON-able data: dataclasses tagged with their class, tuples tagged as tuples."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return {"__class__": f"{type(value).__module__}:{type(value).__qualname__}", **fields}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"a job spec holds plain data only, not {type(value).__name__}")


def decode(data):
    """The value ``encode`` wrote (dataclasses rebuilt through their constructor)."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__class__" not in data:
        return {k: decode(v) for k, v in data.items()}
    cls = _spec_class(str(data["__class__"]))
    return cls(**{k: decode(v) for k, v in data.items() if k != "__class__"})


def _spec_class(name: str) -> type:
    module, _, qualname = name.partition(":")
    cls = getattr(importlib.import_module(module), qualname, None) if name in SPEC_TYPES else None
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"a job spec names {name}, which is not one of the plain-data classes a spec may hold")
    return cls


def save_spec(run_dir: str | Path, job: dict) -> Path:
    """Write ``job`` (owner, label, lane, spec, …) to ``run_dir/job.json`` atomically."""
    return atomic_write_json(Path(run_dir) / SPEC_FILE, encode(job))


def load_spec(run_dir: str | Path) -> dict | None:
    """What ``save_spec`` wrote, rebuilt; None when the run folder has no readable spec."""
    data = read_json(Path(run_dir) / SPEC_FILE)
    if not isinstance(data, dict):
        return None
    try:
        return decode(data)
    except (TypeError, ValueError, ImportError, AttributeError):
        return None
