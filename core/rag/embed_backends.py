"""Embedder backends: PyTorch, ONNX (graph-optimised, lossless) and ONNX int8 (quantised, the default).

sentence-transformers' own ``backend="onnx"`` goes through optimum-onnx, whose
only release pins transformers < 4.58 (the Lab runs transformers 5). So the Lab
does the same three steps with the libraries underneath it, keeping the
SentenceTransformer object (its tokenizer, pooling and normalisation) and
swapping only the transformer's forward pass for an ONNX Runtime session:

1. ``torch.onnx.export`` of the transformer body (token embeddings out),
2. ``onnxruntime.transformers.optimizer`` fuses embeddings+LayerNorm, attention, GELU and
   skip-LayerNorm into single kernels (what optimum calls O2; exported with eager attention,
   because the fuser does not recognise SDPA's traced graph),
3. ``onnxruntime.quantization.quantize_dynamic``: int8 weights, per channel.

Each export is written once to a content-keyed folder under ``export_root()``
(the workspace's ``exports``), then loaded from there, offline. ``export_backend``
is what a ``warmup`` command calls so the first page view does not pay for it.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from core.runtime.workspace import content_hash, default_root

BACKENDS = ("torch", "onnx", "onnx-int8")
# int8: on this project's AVX-512 machines the fp32 ONNX graph ingests only ~1.2x faster than PyTorch (whose
# oneDNN kernels are as good), int8 2.5x, with hit@5 unchanged on all five sample corpora (dense and hybrid)
# and cosine to fp32 0.993. "onnx" stays the lossless choice one flag away; see README Embedder backends.
DEFAULT_BACKEND = "onnx-int8"
BACKEND_ENV = "RAGFT_EMBEDDER_BACKEND"  # process-wide default, e.g. for a server or a test run
EXPORT_ENV = "RAGFT_EXPORT_DIR"  # where exports live; tests point it at one shared folder
_FILES = {"onnx": "model_optimized.onnx", "onnx-int8": "model_int8.onnx"}
_EXPORT_VERSION = "2"  # bump when the export recipe changes, so old folders are not reused
SPINNING = "0"  # ONNX Runtime threads that spin while waiting starve everything else on a busy 2-core laptop
SHORT_INPUT_TOKENS = 64  # a batch with at most this many tokens (padding included) runs on one thread
_lock = threading.Lock()


def check_backend(backend: str | None) -> str:
    """``backend`` or the process default, validated; raises ValueError naming the choices."""
    backend = backend or os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedder backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    return backend


def onnx_available() -> bool:
    """Whether ONNX Runtime (and the exporter's onnx package) are installed.

    Found, not imported: importing onnx costs about 1.5 s (its ml_dtypes extension) and only an export
    needs it; a search that loads an exported model never does. A package that is installed but broken
    fails in ``export_backend``/``attach_onnx``, which the embedder loader turns into a PyTorch fallback.
    """
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in ("onnx", "onnxruntime"))


def export_root() -> Path:
    """``$RAGFT_EXPORT_DIR`` if set, else ``exports`` in the workspace."""
    return Path(os.environ.get(EXPORT_ENV) or default_root() / "exports").expanduser()


def export_folder(model_path: str, root: Path | None = None) -> Path:
    """The folder for one model's exports, keyed by its config and weight files (not by its name)."""
    folder = Path(model_path)
    parts: list[str | bytes] = [_EXPORT_VERSION]
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        file = folder / name
        if file.exists():
            parts += [name, file.read_bytes() if name == "config.json" else str(file.stat().st_size)]
    if len(parts) == 1:  # not a local folder: key by the name the model was loaded from
        parts.append(model_path)
    return Path(root or export_root()) / content_hash(*parts)


def export_backend(st_model, model_path: str, backend: str, root: Path | None = None) -> Path:
    """The ONNX file for ``backend``, exporting (about 20-40 s, once) if it is not on disk yet.

    ``st_model`` is a loaded SentenceTransformer (PyTorch) that is about to run on the export;
    its attention is switched to the eager kernels for the trace.
    Files are written to a temporary folder and moved into place, so a crash
    or a second process never sees half an export.
    """
    target = export_folder(model_path, root) / _FILES[backend]
    with _lock:
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            fp32 = _export_fp32(st_model, Path(tmp) / "model.onnx")
            made = _optimise(st_model, fp32) if backend == "onnx" else _quantise(fp32)
            os.replace(made, target)
    return target


def _export_fp32(st_model, path: Path) -> Path:
    import torch

    transformer = st_model[0].auto_model
    if hasattr(transformer, "set_attn_implementation"):  # SDPA's traced graph hides attention from the fuser
        transformer.set_attn_implementation("eager")  # this model is about to be replaced by the export anyway
    sample = st_model.tokenizer(["an example sentence", "a second, longer example sentence"], return_tensors="pt", padding=True)
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Body(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs))).last_hidden_state

    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]}
    with torch.no_grad(), _quiet():
        torch.onnx.export(Body().eval(), tuple(sample[n] for n in names), str(path), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
    return path


def _optimise(st_model, fp32: Path) -> Path:
    from onnxruntime.transformers.optimizer import optimize_model

    config = st_model[0].auto_model.config
    with _quiet():  # the "bert" fusions cover BERT-like encoders (MiniLM, MPNet, RoBERTa)
        model = optimize_model(str(fp32), model_type="bert", num_heads=int(config.num_attention_heads),
                               hidden_size=int(config.hidden_size), opt_level=1)
    out = fp32.with_name(_FILES["onnx"])
    model.save_model_to_file(str(out))
    return out


def _quantise(fp32: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = fp32.with_name(_FILES["onnx-int8"])
    with _quiet():
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    return out


class _quiet:
    """Silence the exporters' warnings and log lines (they would clutter CLI output)."""

    def __enter__(self):
        import logging
        import warnings

        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        root = logging.getLogger()
        self._root = (root.level, list(root.handlers))  # the exporters call logging.basicConfig: undo it after
        root.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc) -> None:
        import logging

        root = logging.getLogger()
        root.setLevel(self._root[0])
        root.handlers[:] = self._root[1]
        self._warnings.__exit__(*exc)


def attach_onnx(st_model, onnx_file: Path, threads: int | None = None) -> None:
    """Swap the transformer's forward pass in ``st_model`` for an ONNX Runtime session.

    Tokenisation, pooling and normalisation stay sentence-transformers' own, so
    ``st_model.encode`` keeps its signature and output shape.
    """
    import torch

    module = st_model[0]
    module.model = _onnx_body(onnx_file, module.model.config, threads or torch.get_num_threads())


def _onnx_body(onnx_file: Path, config, threads: int):
    """An ONNX Runtime session that answers like a transformers model: ``{"last_hidden_state": tensor}``.

    It is a ``torch.nn.Module`` (without parameters) because sentence-transformers keeps the
    transformer as a registered sub-module; torch is imported here, not when core loads.
    A short input (one question) runs on a second, one-thread session, made on first use: its
    matrices are so small that a second thread costs more in waking and waiting than it saves.
    """
    import torch

    sessions, made = {max(1, int(threads)): None, 1: None}, threading.Lock()

    def session_for(n_tokens: int):
        n = 1 if n_tokens <= SHORT_INPUT_TOKENS else max(1, int(threads))
        if sessions[n] is None:
            with made:
                sessions[n] = sessions[n] or _session(onnx_file, n)
        return sessions[n]

    names = [i.name for i in session_for(SHORT_INPUT_TOKENS + 1).get_inputs()]

    class OnnxBody(torch.nn.Module):
        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **_unused):
            given = {"input_ids": input_ids, "attention_mask": attention_mask,
                     "token_type_ids": token_type_ids if token_type_ids is not None else torch.zeros_like(input_ids)}
            session = session_for(int(input_ids.numel()))
            (hidden,) = session.run(["last_hidden_state"], {n: given[n].cpu().numpy() for n in names})
            return {"last_hidden_state": torch.from_numpy(hidden)}

    body = OnnxBody()
    body.config, body.onnx_file = config, Path(onnx_file)
    return body


def _session(onnx_file: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", SPINNING)
    return ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
