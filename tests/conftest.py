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
