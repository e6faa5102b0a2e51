"""Warm-up before a class: load the models, compile UMAP, embed and index the sample corpora, and measure
how fast this machine is, so learners' first clicks are fast and the Lab's estimates fit this machine.

Run once with ``python -m core warmup`` (or the Overview's button). Embeddings land in the workspace's shared
cache and numba keeps UMAP's compiled code in ``<workspace>/numba-cache`` (``NUMBA_CACHE_DIR``, set by
``core`` on import), so later processes start warm too.

>>> report = warm_up(corpora=["world_arcade"])                  # doctest: +SKIP
>>> report.stages["embed world_arcade"], report.tokens_per_s    # doctest: +SKIP
(3.1, 412.0)
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from core.runtime.libraries import set_numba_cache

@dataclass
class WarmupReport:
    stages: dict[str, float] = field(default_factory=dict)  # stage → seconds
    tokens_per_s: float | None = None  # built-in model, greedy generation
    chunks: dict[str, int] = field(default_factory=dict)  # corpus → chunks indexed

    def to_dict(self) -> dict:
        return asdict(self)


def warm_up(corpora: Sequence[str] | None = None, workspace: Path | None = None, *, umap: bool = True,
            progress: Callable[[str, int, int], None] | None = None,
            on_fetch: Callable[[object], None] | None = None) -> WarmupReport:
    """Do every slow first-time step once; ``progress(stage, i, n)`` is called before each stage.

    The built-in models that read the chosen corpora and are not in the model cache yet are fetched
    first (``core.llm.fetch``); ``on_fetch`` receives each of their ``FetchStep``s.
    """
    from core.rag.corpora import list_corpora
    from core.runtime.workspace import Workspace, default_root

    ws = Workspace(workspace or default_root())
    set_numba_cache(ws.root)
    chosen = [c for c in list_corpora() if corpora is None or c.name in corpora]
    report, state = WarmupReport(), {}
    stages: list[tuple[str, Callable[[], None]]] = [
        *[(f"fetch {name}", lambda name=name: _fetch(name, on_fetch)) for name in _models_to_fetch(chosen)],
        ("load the embedder", lambda: state.update(embedder=_embedder())),
        ("export the ONNX embedders", _export_backends),
        ("load the generator", lambda: state.update(gen=_generator())),
        *[(f"embed {c.name}", lambda c=c: _index(c, state, ws, report)) for c in chosen],
        ("measure generation speed", lambda: _speed(state["gen"], report)),
    ]
    if umap:
        stages.append(("compile UMAP", lambda: _umap(state)))
    for i, (name, step) in enumerate(stages):
        if progress:
            progress(name, i, len(stages))
        t = time.perf_counter()
        step()
        report.stages[name] = round(time.perf_counter() - t, 2)
    return report


def _models_to_fetch(corpora) -> list[str]:
    """The fetched built-in models that read these corpora and are not in the model cache yet."""
    from core.llm.fetch import fetch_spec, is_fetched
    from core.llm.choice import choose_model

    names = {choose_model(docs=[c.docs_path]).name for c in corpora}
    return sorted(n for n in names if fetch_spec(n) is not None and not is_fetched(n))


def _fetch(name: str, on_fetch) -> None:
    from core.llm.fetch import fetch_model

    fetch_model(name, progress=on_fetch)


def _embedder():
    from core.rag.embedding import load_embedder

    return load_embedder()


def _export_backends() -> None:
    """The fast (ONNX) and quantised (int8) embedders, exported once, so the Embedding page's comparison is warm."""
    from core.rag.embedding import prepare_backends

    prepare_backends()


def _generator():
    from core.llm.loading import load_generator

    return load_generator()


def _index(corpus, state: dict, ws, report: WarmupReport) -> None:
    from core.rag.documents import load_paths
    from core.rag.embedding import EmbeddingCache
    from core.rag.retrieval import Retriever

    embedder = state["embedder"]
    retriever = Retriever.build(load_paths([corpus.docs_path]), embedder,
                                cache=EmbeddingCache(ws.path("embeddings"), embedder.name))
    report.chunks[corpus.name] = len(retriever.chunks)
    state.setdefault("vectors", retriever.vectors)


def _speed(gen, report: WarmupReport) -> None:
    from core.llm.generation import generate

    out = generate(gen, "How much is the Wilarmore Blender?", max_new_tokens=32, ignore_eos=True)
    report.tokens_per_s = round(out.tokens_per_s, 1)


def _umap(state: dict) -> None:
    from core.rag.projection import fit_projection

    vectors = state.get("vectors")
    if vectors is not None and len(vectors) >= 4:
        fit_projection(vectors, "umap", 2)
