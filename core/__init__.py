"""RAG ⇄ Fine-Tune Lab core: the computation behind every page.

Never imports streamlit: pages call these functions, and so do the CLI
(``python -m core …``), the tests and the benchmarks.

The subpackages follow the data flow: ``rag`` (files → chunks → vectors →
ranked passages), ``llm`` (load, prompt, decode, look inside), ``finetune``
(LoRA training and its measurements), ``world`` (the invented facts the Lab
teaches with), ``runtime`` (jobs, threads, files, sessions); ``answering``,
``evaluation``, ``experiments`` and ``decision`` use all of them.

Old import paths keep working. Before the subpackages, every module sat
directly in ``core``; scripts written then (``import core.generation``,
``from core.metrics import evaluate_retrieval``) still run, because the finder
below maps each old dotted name to its new module and hands back *the same
module object*, so ``monkeypatch.setattr`` on an old path patches the code
that runs:

>>> import core.generation, core.llm.generation
>>> core.generation is core.llm.generation
True
>>> OLD_NAMES["core.metrics"]
'core.rag.retrieval_metrics'

New code imports the new paths; the table only ever grows.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"

OLD_NAMES = {  # the path before the subpackages -> where the module lives now
    **{f"core.{m}": f"core.rag.{m}" for m in (
        "documents", "chunking", "embedding", "embed_backends", "index", "retrieval", "rerank", "explain",
        "projection", "corpora")},
    "core.metrics": "core.rag.retrieval_metrics",
    **{f"core.{m}": f"core.llm.{m}" for m in (
        "hub", "generation", "prompting", "confidence", "attribution", "editing")},
    "core.finetune_data": "core.finetune.data",
    "core.finetune_eval": "core.finetune.evaluate",
    "core.finetune_io": "core.finetune.io",
    "core.finetune_presets": "core.finetune.presets",
    "core.finetune_step": "core.finetune.step",
    "core.world_templates": "core.world.templates",
    **{f"core.{m}": f"core.runtime.{m}" for m in ("jobs", "threads", "workspace", "sessions", "warmup")},
}


class _OldNameLoader(importlib.abc.Loader):
    """Imports the new module and puts it in ``sys.modules`` under the old name too.

    The import system returns whatever ``sys.modules[name]`` holds after
    ``exec_module``, so the placeholder it created is dropped and the real
    module (its ``__name__`` and ``__spec__`` untouched) is what callers get.
    """

    def create_module(self, spec):
        return None  # a throwaway placeholder; exec_module replaces it

    def exec_module(self, module) -> None:
        sys.modules[module.__name__] = importlib.import_module(OLD_NAMES[module.__name__])


class _OldNameFinder(importlib.abc.MetaPathFinder):
    """Answers only for the names in ``OLD_NAMES``; every other import goes on as usual."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in OLD_NAMES:
            return None
        return importlib.util.spec_from_loader(fullname, _OldNameLoader())


if not any(type(f).__name__ == "_OldNameFinder" for f in sys.meta_path):  # once, even after a reload
    sys.meta_path.insert(0, _OldNameFinder())
