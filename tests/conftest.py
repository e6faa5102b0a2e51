"""Shared fixtures: real small models load once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def embedder():
    from core.embedding import load_embedder

    return load_embedder()


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
