"""Shared fixtures: real small models load once per test session."""

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
