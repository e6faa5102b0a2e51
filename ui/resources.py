"""Process-wide cached resources: models load once per process and are never mutated."""

from __future__ import annotations

import streamlit as st

from core.embedding import EmbeddingCache, load_embedder
from core.workspace import Workspace, default_root


@st.cache_resource(max_entries=2, show_spinner="Loading the embedding model…")
def get_embedder(name: str | None = None):
    return load_embedder(name)


@st.cache_resource(max_entries=1)
def get_workspace() -> Workspace:
    """The server's workspace root; each browser session gets a private sub-workspace (see ui.state)."""
    return Workspace(default_root())


@st.cache_resource(max_entries=2)
def get_embedding_cache(model_name: str) -> EmbeddingCache:
    """Shared by all sessions: vectors are keyed by text hash, so nothing leaks between users."""
    return EmbeddingCache(get_workspace().path("embeddings"), model_name)


@st.cache_resource(max_entries=3, show_spinner="Loading the generator…")
def get_generator(name: str | None = None):
    from core.generation import load_generator

    return load_generator(name)
