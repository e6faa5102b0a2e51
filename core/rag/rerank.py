"""Reranking: a second look at the first stage's top-N before the top-k goes into the prompt.

First-stage search (dense, BM25 or hybrid) is fast because it compares the question with one
vector or one bag of words per chunk; it finds the right chunk (hit@5 ≈ 0.98 on the sample
Q&A sets) but often not first. A reranker reads only the N candidates, more closely:

- ``sentence``: small-to-big. Each chunk is scored by its best sentence (or pair of adjacent
  sentences) against the question; the whole chunk is returned. A fact in one sentence is not
  diluted by the rest of its chunk.
- ``maxsim``: late interaction (ColBERT-style) with the same MiniLM: each question token finds
  its most similar chunk token; the score is the mean of those maxima.
- ``fused`` (the default): ``sentence`` + ``maxsim`` + the first-stage rank, each standardised
  (z-score) over the candidates, added with equal weights (nothing tuned). Chosen by
  ``bench/retrieval_eval.py``; see the README.
- ``mmr``: maximal marginal relevance: relevance (cosine) minus redundancy with the hits already
  picked, for diversity among the top-k (it never changes the top hit).
- ``cross-encoder``: any sentence-transformers ``CrossEncoder`` by hub id (loaded only when
  already cached) or local folder: it reads question and chunk together.

Chunk features (sentence vectors, token vectors) are computed once per chunk text and keyed by its
content hash, so an edited chunk is re-read and every other one comes from the cache.

>>> hits = Reranker(RerankConfig("fused"), FeatureStore(embedder)).search(retriever, "When is the shop open?", 5)  # doctest: +SKIP
>>> hits[0].details["first_stage_rank"], hits[0].details["rerank"]                               # doctest: +SKIP
(3, 2.41)
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from core.rag.chunking import sentence_spans
from core.errors import ConfigError, ModelUnavailable
from core.rag.index import Hit
from core.runtime.workspace import atomic_write_bytes, content_hash

METHODS = ("none", "sentence", "maxsim", "fused", "mmr", "cross-encoder")
DEFAULT_METHOD = "fused"  # best mean hit@1 on the prose Q&A sets, no tuned weights (README: Reranking)
DEFAULT_CANDIDATES = 20  # hit@5 of hybrid search is ~0.98, so the answer is almost always among 20
MAX_CANDIDATES = 200  # reranking reads every candidate closely; more would be slow and rarely help
METHOD_HELP = {
    "none": "first-stage order (no reranking)",
    "sentence": "best sentence (or sentence pair) of each chunk vs the question (small-to-big)",
    "maxsim": "late interaction: each question token's best-matching chunk token (ColBERT-style MaxSim)",
    "fused": "sentence + MaxSim + first-stage rank, each standardised over the candidates (default)",
    "mmr": "maximal marginal relevance: relevant but not redundant with hits already picked",
    "cross-encoder": "a sentence-transformers CrossEncoder reads question and chunk together",
}


@dataclass(frozen=True)
class RerankConfig:
    method: str = DEFAULT_METHOD
    candidates: int = DEFAULT_CANDIDATES  # first-stage hits the reranker reads (N); it returns the top k
    model: str | None = None  # cross-encoder: hub id (must be cached) or local folder
    mmr_lambda: float = 0.7  # MMR: 1 = relevance only, 0 = diversity only

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"unknown rerank method {self.method!r}; choose one of {', '.join(METHODS)}")
        if not isinstance(self.candidates, int) or not 1 <= self.candidates <= MAX_CANDIDATES:
            raise ConfigError(f"candidates must be between 1 and {MAX_CANDIDATES} (got {self.candidates})")
        if self.method == "cross-encoder" and not (self.model or "").strip():
            raise ConfigError("the cross-encoder method needs a model: a hub id already in the cache, or a local folder")
        if not 0.0 <= self.mmr_lambda <= 1.0:
            raise ConfigError(f"mmr_lambda must be between 0 and 1 (got {self.mmr_lambda})")

    @property
    def active(self) -> bool:
        return self.method != "none"

    def to_dict(self) -> dict:
        return asdict(self)


# --- per-chunk features, cached by content hash -----------------------------------------

@dataclass
class ChunkFeatures:
    """What the rerankers read of one chunk text."""

    sentences: list[tuple[int, int]]  # character spans of the chunk's sentences
    sentence_vectors: np.ndarray = field(repr=False)  # (S, d) normalised
    tokens: np.ndarray = field(repr=False)  # (T, d) normalised float16, [CLS]/[SEP] dropped


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9, None)


def token_vectors(embedder, texts: Sequence[str]) -> list[np.ndarray]:
    """Contextual token vectors of each text (normalised, float32, without [CLS] and [SEP])."""
    if not texts:
        return []
    out = embedder.model.encode(list(texts), output_value="token_embeddings", convert_to_numpy=False,
                                show_progress_bar=False, batch_size=32)
    vectors = []
    for t in out:
        t = np.asarray(t.float().cpu().numpy(), dtype=np.float32)
        vectors.append(_normalise(t[1:-1] if len(t) > 2 else t))
    return vectors


class FeatureStore:
    """Sentence and token vectors per chunk text, in memory and (optionally) on disk.

    Sentence vectors go through the shared ``EmbeddingCache`` (a sentence is just a short text);
    token vectors are one float16 ``.npy`` per chunk text under ``token_dir``. Thread-safe.
    """

    def __init__(self, embedder, cache=None, token_dir: Path | None = None, max_items: int = 20_000) -> None:
        self.embedder, self.cache, self.max_items = embedder, cache, max_items
        self.token_dir = Path(token_dir) / content_hash(embedder.cache_key) if token_dir is not None else None
        self._memory: dict[str, ChunkFeatures] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._memory)

    def get(self, texts: Sequence[str]) -> list[ChunkFeatures]:
        """Features of each text, computing (in one batch) those not seen before."""
        keys = [content_hash(t) for t in texts]
        with self._lock:
            found = {k: self._memory[k] for k in keys if k in self._memory}
        missing = {k: t for k, t in zip(keys, texts) if k not in found}
        if missing:
            found.update(self._compute(list(missing), list(missing.values())))
        return [found[k] for k in keys]

    def _compute(self, keys: list[str], texts: list[str]) -> dict[str, ChunkFeatures]:
        from core.rag.embedding import embed_texts

        spans = [[(a, b) for a, b in sentence_spans(t) if t[a:b].strip()] or [(0, len(t))] for t in texts]
        flat = [t[a:b] for t, sp in zip(texts, spans) for a, b in sp]
        vectors = embed_texts(self.embedder, flat, cache=self.cache)
        tokens = self._tokens(keys, texts)
        out, pos = {}, 0
        for key, sp, tok in zip(keys, spans, tokens):
            out[key] = ChunkFeatures(sp, vectors[pos: pos + len(sp)], tok)
            pos += len(sp)
        with self._lock:
            self._memory.update(out)
            while len(self._memory) > self.max_items:
                self._memory.pop(next(iter(self._memory)))
        return out

    def _tokens(self, keys: list[str], texts: list[str]) -> list[np.ndarray]:
        loaded = {k: self._load(k) for k in keys}
        todo = [i for i, k in enumerate(keys) if loaded[k] is None]
        for i, vec in zip(todo, token_vectors(self.embedder, [texts[i] for i in todo])):
            loaded[keys[i]] = vec.astype(np.float16)
            self._save(keys[i], loaded[keys[i]])
        return [loaded[k] for k in keys]

    def _load(self, key: str) -> np.ndarray | None:
        if self.token_dir is None:
            return None
        try:
            return np.load(self.token_dir / f"{key}.npy")
        except (FileNotFoundError, ValueError, OSError):
            return None

    def _save(self, key: str, tokens: np.ndarray) -> None:
        if self.token_dir is None:
            return
        import io

        buffer = io.BytesIO()
        np.save(buffer, tokens)
        atomic_write_bytes(self.token_dir / f"{key}.npy", buffer.getvalue())


# --- scoring: each function reads the candidates and returns one score per candidate -----

def best_sentence(query_vector: np.ndarray, feats: ChunkFeatures) -> tuple[float, tuple[int, int]]:
    """Cosine of the chunk's best sentence or adjacent pair with the question, and that span.

    A pair's vector is the normalised sum of its two sentence vectors (no extra encoding).
    """
    sv = feats.sentence_vectors
    sims = sv @ query_vector
    best = int(np.argmax(sims))
    score, span = float(sims[best]), feats.sentences[best]
    if len(sv) > 1:
        pair = _normalise(sv[:-1] + sv[1:]) @ query_vector
        j = int(np.argmax(pair))
        if pair[j] > score:
            score, span = float(pair[j]), (feats.sentences[j][0], feats.sentences[j + 1][1])
    return score, span


def maxsim(query_tokens: np.ndarray, feats: ChunkFeatures) -> float:
    """ColBERT's MaxSim: for each question token its best chunk-token cosine, averaged."""
    if len(query_tokens) == 0 or len(feats.tokens) == 0:
        return 0.0
    return float((query_tokens @ feats.tokens.astype(np.float32).T).max(axis=1).mean())


def standardise(values: Sequence[float]) -> np.ndarray:
    """z-scores over the candidates (all zero when they are all equal), so unlike scales can be added."""
    x = np.asarray(values, dtype=np.float64)
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def mmr_order(relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float) -> list[tuple[int, float]]:
    """Greedy MMR: pick argmax of λ·relevance − (1−λ)·max cosine to the picked ones. Returns (index, score).

    >>> v = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    >>> [i for i, _ in mmr_order(np.array([0.9, 0.89, 0.5]), v, 3, 0.5)]
    [0, 2, 1]
    """
    picked: list[tuple[int, float]] = []
    left = list(range(len(relevance)))
    while left and len(picked) < k:
        redundancy = (vectors[left] @ vectors[[i for i, _ in picked]].T).max(axis=1) if picked else np.zeros(len(left))
        scores = lam * relevance[left] - (1 - lam) * redundancy
        best = int(np.argmax(scores))
        picked.append((left.pop(best), float(scores[best])))
    return picked


# --- cross-encoders ----------------------------------------------------------------------

_CROSS_ENCODERS: dict[str, object] = {}
_CROSS_LOCK = threading.Lock()


def load_cross_encoder(name: str):
    """A sentence-transformers ``CrossEncoder`` from a local folder, or a hub id already in the cache.

    Never downloads: reranking must work offline. Raises ``ModelUnavailable`` with what to do.
    """
    from sentence_transformers import CrossEncoder

    name = (name or "").strip()
    path = Path(name).expanduser()
    if not path.exists() and name.startswith((".", "/", "~")):
        raise ModelUnavailable(f"There is no cross-encoder folder at {name}. Give a folder with config.json and the "
                               "weights, or a hub id already downloaded to the Hugging Face cache.")
    source = str(path.resolve()) if path.exists() else name
    with _CROSS_LOCK:
        if source not in _CROSS_ENCODERS:
            try:
                _CROSS_ENCODERS[source] = CrossEncoder(source, device="cpu", local_files_only=True)
            except Exception as exc:  # OSError, missing files, bad config: all mean "cannot load this"
                raise ModelUnavailable(
                    f"Could not load the cross-encoder {name!r} ({exc.__class__.__name__}). The Lab loads "
                    "cross-encoders offline only: give a local folder, or download the model once "
                    f"(`hf download {name}`) so it is in the Hugging Face cache.") from exc
        return _CROSS_ENCODERS[source]


# --- the reranking stage -----------------------------------------------------------------

@dataclass
class Reranker:
    """First-stage top-N → reranked top-k. ``FeatureStore`` may be shared by many rerankers."""

    config: RerankConfig
    store: FeatureStore

    def with_config(self, config: RerankConfig) -> "Reranker":
        return Reranker(config, self.store)

    def search(self, retriever, query: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        """Top-``k`` hits for ``query``; each hit's ``details`` adds ``first_stage_rank``,
        ``first_stage_score``, ``sentence``, ``maxsim``, ``rerank`` and ``best_span`` (the best
        sentence's character span inside the chunk). ``score`` is the rerank score."""
        return self.search_many(retriever, [query], k, mode)[0]

    def search_many(self, retriever, queries: Sequence[str], k: int = 5, mode: str = "hybrid") -> list[list[Hit]]:
        """``search`` for many queries; questions are embedded in one batch."""
        vectors = retriever.embed_queries(queries)
        n = max(k, self.config.candidates) if self.config.active else k
        first = [retriever.search(q, n, mode, query_vector=v) for q, v in zip(queries, vectors)]
        if not self.config.active:
            return [[_first_stage(h) for h in hits] for hits in first]
        tokens = token_vectors(self.store.embedder, [q.strip() for q in queries])
        return [self.rerank(q, v, t, hits, k, retriever) for q, v, t, hits in zip(queries, vectors, tokens, first)]

    def rerank(self, query: str, query_vector: np.ndarray, query_tokens: np.ndarray, hits: list[Hit], k: int,
               retriever=None) -> list[Hit]:
        """Reorder first-stage ``hits`` (best first) and keep ``k``."""
        if not hits:
            return []
        feats = self.store.get([h.chunk.text for h in hits])
        qv = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        best = [best_sentence(qv, f) for f in feats]
        parts = {"sentence": np.array([s for s, _ in best]), "maxsim": np.array([maxsim(query_tokens, f) for f in feats])}
        method = self.config.method
        if method == "mmr":
            relevance = np.array([h.details.get("dense", 0.0) for h in hits])
            order = mmr_order(relevance, _chunk_vectors(retriever, hits), k, self.config.mmr_lambda)
        else:
            if method == "cross-encoder":
                model = load_cross_encoder(self.config.model)
                parts["cross_encoder"] = np.asarray(model.predict([(query.strip(), h.chunk.text) for h in hits],
                                                                  show_progress_bar=False), dtype=np.float64).reshape(-1)
            scores = self._scores(method, parts, len(hits))
            order = [(int(i), float(scores[i])) for i in np.argsort(-scores, kind="stable")[:k]]
        out = []
        for rank, (i, score) in enumerate(order, start=1):
            h = hits[i]
            extra = {name: float(v[i]) for name, v in parts.items()}
            out.append(Hit(h.chunk, score, rank, {**h.details, **extra, "first_stage_rank": h.rank,
                                                   "first_stage_score": h.score, "rerank": score,
                                                   "best_span": best[i][1]}))
        return out

    @staticmethod
    def _scores(method: str, parts: dict[str, np.ndarray], n: int) -> np.ndarray:
        if method == "sentence":
            return parts["sentence"]
        if method == "maxsim":
            return parts["maxsim"]
        if method == "cross-encoder":
            return parts["cross_encoder"]
        first = -np.arange(1, n + 1, dtype=np.float64)  # first-stage order: better rank, higher value
        return standardise(parts["sentence"]) + standardise(parts["maxsim"]) + standardise(first)


def rank_moves(original, edited, query: str, mode: str, reranker: "Reranker", positions: Sequence[int]):
    """For each chunk position: (chunk, its reranked rank for ``query`` in ``original``, in ``edited``); a rank
    is None when the chunk is not in the top ``reranker.config.candidates``. What a chunk edit did to its rank."""
    depth = max(reranker.config.candidates, 1)
    out = []
    for position in positions:
        chunk = original.chunks[position]
        ranks = [next((h.rank for h in reranker.search(r, query, depth, mode)
                       if (h.chunk.doc_id, h.chunk.index) == (chunk.doc_id, chunk.index)), None)
                 for r in (original, edited)]
        out.append((chunk, *ranks))
    return out


def _first_stage(hit: Hit) -> Hit:
    return replace(hit, details={**hit.details, "first_stage_rank": hit.rank, "first_stage_score": hit.score})


def _chunk_vectors(retriever, hits: list[Hit]) -> np.ndarray:
    """The hits' chunk vectors from the retriever (MMR's redundancy is cosine between chunks)."""
    position = {(c.doc_id, c.index): i for i, c in enumerate(retriever.chunks)}
    return retriever.vectors[[position[(h.chunk.doc_id, h.chunk.index)] for h in hits]]


def make_reranker(embedder, config: RerankConfig = RerankConfig(), workspace=None) -> Reranker:
    """A reranker whose features are cached in ``workspace`` (sentence vectors with the embedding cache)."""
    from core.rag.embedding import EmbeddingCache

    cache = token_dir = None
    if workspace is not None:
        cache = EmbeddingCache(workspace.path("embeddings"), embedder.cache_key)
        token_dir = workspace.path("embeddings", "token_vectors")
    return Reranker(config, FeatureStore(embedder, cache, token_dir))
