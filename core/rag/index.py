"""Search structures over chunk vectors and chunk text.

- Dense: FAISS inner product on normalised vectors (= cosine). ``flat`` is
  exact; ``hnsw`` (graph) and ``ivf`` (clustered lists) are approximate and
  exist so the Lab can show the recall/latency trade-off.
- Sparse: BM25 from ``bm25s`` (fast, pure numpy/scipy, maintained, English stopwords).
- Hybrid: reciprocal-rank fusion of the dense and BM25 rankings (Cormack et al. 2009).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.rag.chunking import Chunk
from core.errors import ConfigError, IndexError_

KINDS = ("flat", "hnsw", "ivf")
MODES = ("dense", "bm25", "hybrid")
IVF_MIN_PER_LIST = 4  # fewer training points per list and the k-means clusters mean nothing
MAX_PARAM = 100_000  # far above any useful M, efSearch, nlist or nprobe; stops runaway values
RRF_K = 60  # the constant from the RRF paper; damps the weight of the very top ranks
PRESCAN_FROM = 20_000  # from this many vectors, flat search first scans an int8 copy (see DenseIndex)
PRESCAN_DEPTH = 64  # candidates the int8 scan hands to the exact re-score; the true top 5 were always among them
FEW_QUERIES = 20  # below this FAISS scans each query on one thread anyway; more threads only add waiting
SCAN_PARTS = 2  # a prescan of one query is split over this many threads (each scans its share of the ids)


@dataclass(frozen=True)
class IndexConfig:
    kind: str = "flat"  # exact search: at Lab corpus sizes it is fast enough and never misses
    hnsw_m: int = 32  # graph degree: higher = better recall, more memory
    hnsw_ef_search: int = 64  # candidates explored per query: higher = better recall, slower
    ivf_nlist: int = 0  # number of clusters; 0 = about sqrt(n), bounded by the training rule
    ivf_nprobe: int = 4  # clusters visited per query

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown index kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        numbers = (self.hnsw_m, self.hnsw_ef_search, self.ivf_nlist, self.ivf_nprobe)
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in numbers):
            raise ConfigError("index parameters must be whole numbers")
        if max(numbers) > MAX_PARAM:
            raise ConfigError(f"index parameters must be at most {MAX_PARAM:,}")
        if self.hnsw_m < 2 or self.hnsw_ef_search < 1 or self.ivf_nprobe < 1 or self.ivf_nlist < 0:
            raise ConfigError("index parameters must be positive (hnsw_m ≥ 2, ef_search ≥ 1, nprobe ≥ 1)")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    """One search result. ``score`` is cosine (dense), BM25, or RRF (hybrid); ``rank`` starts at 1."""

    chunk: Chunk
    score: float
    rank: int
    details: dict = field(default_factory=dict, compare=False, hash=False)  # per-retriever scores/ranks


class DenseIndex:
    """A FAISS index over normalised float32 vectors.

    ``flat`` is exact. From PRESCAN_FROM vectors on, a flat search reads an 8-bit copy of the
    vectors (a quarter of the memory traffic, which is what a scan of 100k × 384 floats is
    bound by), takes its best PRESCAN_DEPTH candidates and re-scores those with the float32
    vectors: the scores are exact cosines, and the top k matched the full float32 scan on every
    query of ``bench/bench_ingest.py``. One query's prescan is split into SCAN_PARTS id ranges
    scanned by as many threads (FAISS scans one query on one thread): 7.5 → 3.7 ms at 100k on 2 cores.
    """

    def __init__(self, vectors: np.ndarray, config: IndexConfig = IndexConfig()) -> None:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) == 0:
            raise IndexError_("There are no chunk vectors to index: the corpus produced zero chunks.")
        self.config = config
        n, dim = vectors.shape
        self.exact: np.ndarray | None = None  # float32 vectors for the re-score after an int8 prescan
        if config.kind == "flat" and n >= PRESCAN_FROM:
            index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
            index.train(vectors)
            self.exact = vectors
        elif config.kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif config.kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = config.hnsw_ef_search
        else:
            index = self._ivf(vectors, config)
        index.add(vectors)
        self.index = index
        self.size = n
        self._coarse = None

    @property
    def prescanned(self) -> bool:
        """True when search ranks an int8 scan's best candidates by exact cosine (a flat index of many vectors)."""
        return self.exact is not None

    @staticmethod
    def _ivf(vectors: np.ndarray, config: IndexConfig):
        import faiss

        n, dim = vectors.shape
        nlist = ivf_lists(n, config.ivf_nlist)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.min_points_per_centroid = 1  # small corpora are the Lab's normal case: no FAISS warning
        index.train(vectors)
        index.nprobe = min(config.ivf_nprobe, nlist)
        return index

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each shape (len(queries), k'); k' = min(k, size). Missing slots have id -1."""
        k = min(k, self.size)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        with _faiss_threads(1 if len(queries) < FEW_QUERIES else 0):
            if self.exact is None:
                return self.index.search(queries, k)
            depth = min(max(k, PRESCAN_DEPTH), self.size)
            candidates = self._split_scan(queries, depth) if len(queries) == 1 else self.index.search(queries, depth)[1]
        return rescore(self.exact, queries, candidates, k)

    def _split_scan(self, query: np.ndarray, depth: int) -> np.ndarray:
        """One query's int8 candidates, its id ranges scanned in parallel threads (FAISS releases the GIL)."""
        import faiss

        bounds = np.linspace(0, self.size, SCAN_PARTS + 1).astype(int)
        params = [faiss.SearchParameters(sel=faiss.IDSelectorRange(int(a), int(b))) for a, b in zip(bounds, bounds[1:])]
        parts = list(_scan_pool().map(lambda p: self.index.search(query, depth, params=p)[1], params))
        return np.concatenate(parts, axis=1)

    def coarse_scores(self, query: np.ndarray) -> np.ndarray:
        """Every vector's cosine to ``query`` from a bfloat16 copy (built on first use): a third of a float32
        scan's time at 100k × 384 on 2 cores, each score within about 0.001 of the exact one. For ranking
        what lies beyond the candidates of a prescanned index, where an exact count would cost a full scan."""
        import torch

        if self.exact is None:
            raise IndexError_("coarse scores need a prescanned flat index")
        if self._coarse is None:
            self._coarse = torch.from_numpy(self.exact).to(torch.bfloat16)
        q = torch.from_numpy(np.ascontiguousarray(query, dtype=np.float32).reshape(-1)).to(torch.bfloat16)
        return (self._coarse @ q).float().numpy()

    def search_ranked(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One query's exact top ``k`` (as ``search``) and every vector's coarse score, from one bfloat16
        scan: its best candidates are re-scored in float32. For hybrid search, which also ranks BM25's finds
        against every dense score; a second, FAISS scan would double the cost."""
        coarse = self.coarse_scores(query)
        candidates = top_ids(coarse, min(max(k, PRESCAN_DEPTH) + PRESCAN_DEPTH, self.size))
        scores, ids = rescore(self.exact, np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1),
                              candidates[None], min(k, self.size))
        return scores, ids, coarse

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, config: IndexConfig, vectors: np.ndarray | None = None) -> "DenseIndex":
        """A saved index; ``vectors`` (the saved float32 ones) give a prescanned flat index its exact re-score."""
        import faiss

        self = cls.__new__(cls)
        try:
            self.index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexError_(f"The saved index at {path} is damaged; rebuild it.") from exc
        self.config, self.size, self._coarse = config, self.index.ntotal, None
        prescan = isinstance(self.index, faiss.IndexScalarQuantizer) and vectors is not None
        self.exact = np.ascontiguousarray(vectors, dtype=np.float32) if prescan else None
        return self


def rescore(vectors: np.ndarray, queries: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of each query's ``candidates`` by exact inner product, in ``search``'s shapes.

    >>> v = np.eye(3, dtype=np.float32)
    >>> rescore(v, v[[2]], np.array([[0, 2, -1]]), 2)[1].tolist()
    [[2, 0]]
    """
    scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    for row, (query, found) in enumerate(zip(queries, candidates)):
        found = found[found >= 0]
        exact = vectors[found] @ query
        best = np.argsort(-exact, kind="stable")[:k]
        scores[row, : len(best)], ids[row, : len(best)] = exact[best], found[best]
    return scores, ids


_POOL = None


def _scan_pool():
    """The threads that split one query's prescan (created on first use, shared by every index)."""
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(SCAN_PARTS, thread_name_prefix="prescan")
    return _POOL


class _faiss_threads:
    """Run a search with ``n`` OpenMP threads (0 = unchanged), then restore the count.

    One query is scanned by one thread anyway; the other threads only spin and wait, which on a
    busy 2-core machine made a 100k-vector search 2.5× slower (40 ms → 102 ms under load).
    The count is process-wide: a concurrent search may briefly run with one thread, never wrongly.
    """

    def __init__(self, n: int) -> None:
        self.n = n

    def __enter__(self) -> None:
        import faiss

        self.before = faiss.omp_get_max_threads()
        if self.n and self.n != self.before:
            faiss.omp_set_num_threads(self.n)

    def __exit__(self, *exc) -> None:
        import faiss

        if self.n and self.n != self.before:
            faiss.omp_set_num_threads(self.before)


def ivf_lists(n: int, requested: int = 0) -> int:
    """The IVF lists used for ``n`` vectors: ``requested`` (0 = about √n), lowered so each list gets at least
    IVF_MIN_PER_LIST training points. Small corpora get fewer lists rather than an error.

    >>> ivf_lists(38), ivf_lists(4), ivf_lists(10_000), ivf_lists(38, requested=20)
    (6, 1, 100, 9)
    """
    wanted = requested or max(1, int(math.sqrt(n)))
    return max(1, min(wanted, n // IVF_MIN_PER_LIST))


class BM25Index:
    """BM25 over chunk texts (lower-cased words, English stopwords removed)."""

    def __init__(self, texts: list[str]) -> None:
        import bm25s

        if not texts:
            raise IndexError_("There are no chunks to index: the corpus produced zero chunks.")
        self.size = len(texts)
        tokenized = bm25s.tokenize(texts, stopwords="en", show_progress=False)
        # Chunks of stop words or single characters leave no terms: bm25s cannot index
        # an empty vocabulary, and every query would score 0 anyway.
        self.bm25 = None
        if tokenized.vocab:
            self.bm25 = bm25s.BM25()
            self.bm25.index(tokenized, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for ``query`` (zeros when no query word is in the corpus)."""
        import bm25s

        if self.bm25 is None:
            return np.zeros(self.size, dtype=np.float32)
        words = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        known = [w for w in words if w in self.bm25.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self.scores(query)
        ids = top_ids(scores, k)
        return scores[ids], ids


def top_ids(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first, ties in index order: ``argsort(-scores, stable)[:k]``.

    Sorting 100k BM25 scores per query costs milliseconds; most are zero, so the k-th best is
    found among the positive ones, and only the scores above it are sorted (exactly the full sort's order).

    >>> top_ids(np.array([0.0, 2.0, 1.0, 2.0]), 2).tolist()
    [1, 3]
    """
    k = min(k, len(scores))
    positive = np.flatnonzero(scores > 0)
    kth = np.partition(scores[positive], len(positive) - k)[len(positive) - k] if len(positive) > k > 0 else 0.0
    above = np.flatnonzero(scores > kth)  # in index order, so the stable sort keeps ties in it
    ties = np.flatnonzero(scores == kth)[: k - len(above)]  # e.g. the many zeros of a rare query word
    if len(above) + len(ties) < k:  # negative scores reach the top k: sort them all
        return np.argsort(-scores, kind="stable")[:k]
    return np.concatenate([above[np.argsort(-scores[above], kind="stable")], ties])[:k]


def rrf(rankings: list[list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: score(id) = Σ 1 / (k + rank). Returns (id, score), best first.

    >>> rrf([[1, 2], [2, 3]])[0][0]
    2
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
