"""The retrieval pipeline: documents → chunks → vectors → indexes → hits.

``Retriever.build`` runs RAG's setup stage (split, embed, store);
``Retriever.search`` runs its retrieval stage (embed the question, search, rank).
The CLI, the pages, the evaluation and the benchmarks all go through here.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from core.rag.chunking import Chunk, ChunkConfig, chunk_documents
from core.rag.documents import Document
from core.rag.embedding import Embedder, EmbeddingCache, Progress, embed_counted, embed_texts
from core.errors import ConfigError, EmptyCorpus, IndexError_, InvalidQuery
from core.rag.index import MODES, RRF_K, BM25Index, DenseIndex, Hit, IndexConfig, rrf, top_ids
from core.runtime.workspace import atomic_write_json, replace_folder

MAX_QUERY_CHARS = 2000  # longer "questions" are almost always a paste by mistake
FUSION_DEPTH = 50  # how deep each ranking goes before reciprocal-rank fusion


def check_query(query: str) -> str:
    """Validate a question; return it stripped."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidQuery("The question is empty. Type a question first.")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidQuery(
            f"The question is {len(query):,} characters long; the limit is {MAX_QUERY_CHARS:,}. "
            "Ask a shorter question (retrieval works best with one sentence)."
        )
    return query.strip()


@dataclass
class BuildStats:
    n_documents: int
    n_chunks: int
    n_embedded: int  # chunks that were not in the cache
    seconds_chunk: float
    seconds_embed: float
    seconds_index: float


@dataclass
class Retriever:
    """Chunks with their vectors, a dense index and a BM25 index."""

    chunks: list[Chunk]
    vectors: np.ndarray = field(repr=False)
    embedder: Embedder = field(repr=False)
    chunk_config: ChunkConfig
    index_config: IndexConfig
    dense: DenseIndex = field(repr=False)
    bm25: BM25Index = field(repr=False)
    stats: BuildStats | None = None
    rrf_k: int = RRF_K  # hybrid's fusion constant: small = the top ranks of each list dominate

    @classmethod
    def build(
        cls,
        docs: Sequence[Document],
        embedder: Embedder,
        chunk_config: ChunkConfig = ChunkConfig(),
        index_config: IndexConfig = IndexConfig(),
        *,
        cache: EmbeddingCache | None = None,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> "Retriever":
        t0 = time.perf_counter()
        embed = lambda texts: embed_texts(embedder, texts, cache=cache)  # noqa: E731 (semantic chunking)
        chunks = chunk_documents(docs, chunk_config, embedder.tokens, embed)
        if not chunks:
            raise EmptyCorpus("The documents produced zero chunks: add a document with some text.")
        t1 = time.perf_counter()
        vectors, n_new = embed_counted(embedder, [c.text for c in chunks], cache=cache, progress=progress,
                                       should_stop=should_stop)
        t2 = time.perf_counter()
        retriever = cls.from_vectors(chunks, vectors, embedder, chunk_config, index_config)
        t3 = time.perf_counter()
        retriever.stats = BuildStats(len(docs), len(chunks), n_new, t1 - t0, t2 - t1, t3 - t2)
        return retriever

    @classmethod
    def from_vectors(cls, chunks, vectors, embedder, chunk_config=ChunkConfig(), index_config=IndexConfig()) -> "Retriever":
        dense = DenseIndex(vectors, index_config)
        bm25 = BM25Index([c.text for c in chunks])
        return cls(list(chunks), vectors, embedder, chunk_config, index_config, dense, bm25)

    def with_index(self, index_config: IndexConfig) -> "Retriever":
        """The same chunks and vectors under another FAISS index type (no re-embedding)."""
        return Retriever(self.chunks, self.vectors, self.embedder, self.chunk_config, index_config,
                         DenseIndex(self.vectors, index_config), self.bm25, self.stats)

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        return self.embedder.encode([check_query(q) for q in queries])

    def search(self, query: str, k: int = 5, mode: str = "dense", query_vector: np.ndarray | None = None) -> list[Hit]:
        """Top-``k`` chunks for ``query``; fewer when the corpus has fewer chunks.

        Returns ``[Hit(chunk, score, rank), …]`` best first; ``hit.details`` holds
        ``{"dense": cosine, "bm25": bm25_score, "dense_rank": int, "bm25_rank": int | None}``: each
        retriever's own score and rank (1 = its best chunk) for this chunk, whatever ``mode`` ranked the
        hits; ``dense``/``dense_rank`` only when the query was embedded (not in "bm25" mode), and
        ``bm25_rank`` is None when the chunk shares no term with the query.
        """
        query = check_query(query)
        if mode not in MODES:
            raise ConfigError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise ConfigError(f"k must be a whole number (got {k!r})")
        if k < 1:
            raise ConfigError(f"k must be at least 1 (got {k})")
        qv = self.embed_queries([query]) if query_vector is None and mode != "bm25" else query_vector
        bm25_all = self.bm25.scores(query)
        dense_list: list[tuple[int, float]] = []  # the dense ranking this search read, best first
        coarse = None  # a prescanned index's bfloat16 scores of every chunk, when hybrid search made them
        if mode == "dense":
            scores, ids = self.dense.search(qv.reshape(1, -1), k)
            ranked = dense_list = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        elif mode == "bm25":
            ids = top_ids(bm25_all, k)
            ranked = [(int(i), float(bm25_all[i])) for i in ids]
        else:
            ranked, dense_list, coarse = self._hybrid(bm25_all, qv, k)
        dense = None if qv is None else self._dense_details(np.asarray(qv, dtype=np.float32).reshape(-1),
                                                             [i for i, _ in ranked], dense_list, coarse)
        return [self._hit(dense, bm25_all, i, s, r) for r, (i, s) in enumerate(ranked, start=1)]

    def _dense_details(self, qv: np.ndarray, ids: list[int], dense_list: list[tuple[int, float]],
                       coarse: np.ndarray | None = None) -> dict:
        """{chunk id: (cosine, dense rank)} for the hits. A small index scores every chunk (exact, cheap);
        a prescanned one (100k chunks: the scan is what costs) reads the ranks off the dense list it
        already has, whose scores are exact; a hit outside that list (a BM25 find in hybrid mode) is ranked
        on a bfloat16 copy, within about 1% of its exact rank."""
        if not self.dense.prescanned:
            dense_all = self.vectors @ qv
            return {i: (float(dense_all[i]), int((dense_all > dense_all[i]).sum()) + 1) for i in ids}
        listed = dict(dense_list)
        out = {}
        for i in ids:
            score = listed.get(i, float(self.vectors[i] @ qv))
            if i in listed:
                rank = sum(s > score for s in listed.values()) + 1
            else:  # beyond the list: counted on the index's bfloat16 copy, within about 1% of the exact rank
                coarse = self.dense.coarse_scores(qv) if coarse is None else coarse
                rank = max(int((coarse > score).sum()), len(listed)) + 1
            out[i] = (score, rank)
        return out

    def search_many(self, queries: Sequence[str], k: int = 5, mode: str = "dense") -> list[list[Hit]]:
        """Batch version of ``search``: queries are embedded in one call."""
        vectors = self.embed_queries(queries) if mode != "bm25" else [None] * len(queries)
        return [self.search(q, k, mode, v) for q, v in zip(queries, vectors)]

    def _hybrid(self, bm25_all: np.ndarray, qv: np.ndarray, k: int) -> tuple[list, list, np.ndarray | None]:
        """(the fused top ``k``, the dense ranking that went into the fusion, a prescanned index's coarse
        scores of every chunk or None)."""
        depth = max(FUSION_DEPTH, k)
        if self.dense.prescanned:
            dense_scores, dense_ids, coarse = self.dense.search_ranked(qv, depth)
        else:
            (dense_scores, dense_ids), coarse = self.dense.search(qv.reshape(1, -1), depth), None
        dense_list = [(int(i), float(s)) for i, s in zip(dense_ids[0], dense_scores[0]) if i >= 0]
        bm25_ids = top_ids(bm25_all, depth)
        bm25_ranking = [int(i) for i in bm25_ids if bm25_all[i] > 0]
        return rrf([[i for i, _ in dense_list], bm25_ranking], k=self.rrf_k)[:k], dense_list, coarse

    def _hit(self, dense: dict | None, bm25_all: np.ndarray, i: int, score: float, rank: int) -> Hit:
        """A hit, with each retriever's score and rank for chunk ``i`` (a rank counts the chunks scored higher)."""
        details = {"bm25": float(bm25_all[i]),
                   "bm25_rank": int((bm25_all > bm25_all[i]).sum()) + 1 if bm25_all[i] > 0 else None}
        if dense is not None:
            details["dense"], details["dense_rank"] = dense[i]
        return Hit(self.chunks[i], score, rank, details)

    def with_rrf_k(self, rrf_k: int) -> "Retriever":
        """The same indexes with another fusion constant (nothing is re-embedded or re-indexed)."""
        if not 1 <= int(rrf_k) <= 1000:
            raise ConfigError(f"the RRF constant must be between 1 and 1000 (got {rrf_k})")
        return replace(self, rrf_k=int(rrf_k))

    def with_chunk_text(self, position: int, text: str, cache: EmbeddingCache | None = None) -> "Retriever":
        """A what-if copy where chunk ``position`` says ``text``: only that chunk is re-embedded.

        The dense index and BM25 (whose word statistics span every chunk) are rebuilt from the
        kept vectors and texts in milliseconds; the documents themselves are not changed.
        """
        if not 0 <= position < len(self.chunks):
            raise ConfigError(f"there is no chunk number {position}; this index has {len(self.chunks)} chunks")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError("The edited chunk is empty: give it some text.")
        chunks = list(self.chunks)
        old = chunks[position]
        chunks[position] = replace(old, text=text, n_tokens=self.embedder.tokens.count([text])[0])
        vectors = self.vectors.copy()
        vectors[position] = embed_texts(self.embedder, [text], cache=cache)[0]
        rebuilt = Retriever.from_vectors(chunks, vectors, self.embedder, self.chunk_config, self.index_config)
        return replace(rebuilt, stats=self.stats, rrf_k=self.rrf_k)

    # --- persistence -------------------------------------------------------------

    def save(self, folder: Path, documents: Sequence[Document] = ()) -> Path:
        """Save chunks, vectors, configs and the FAISS index (BM25 is rebuilt on load: it takes milliseconds).

        Atomic: everything is written into a temporary folder beside ``folder`` (``index.json``, the marker of
        a complete index, last), which then replaces ``folder`` by renames. A crash leaves the old index or
        the new one, never files of both under a marker that claims they are whole.
        """
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
        try:
            np.save(tmp / "vectors.npy", self.vectors)
            self.dense.save(tmp / "dense.faiss")
            atomic_write_json(tmp / "chunks.json", [asdict(c) for c in self.chunks])
            atomic_write_json(tmp / "documents.json",
                              [{"id": d.id, "name": d.name, "metadata": d.metadata} for d in documents])
            atomic_write_json(tmp / "index.json", {
                "embedder": self.embedder.name,
                "chunk_config": self.chunk_config.to_dict(),
                "index_config": self.index_config.to_dict(),
                "n_chunks": len(self.chunks),
                "stats": asdict(self.stats) if self.stats else None,
            })  # written last: its presence marks a complete index
            replace_folder(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return folder

    @classmethod
    def load(cls, folder: Path, embedder: Embedder) -> "Retriever":
        folder = Path(folder)
        try:
            meta = json.loads((folder / "index.json").read_text())
            chunks = [Chunk(**c) for c in json.loads((folder / "chunks.json").read_text())]
            vectors = np.load(folder / "vectors.npy")
        except (FileNotFoundError, json.JSONDecodeError, TypeError, ValueError) as exc:
            raise IndexError_(f"No complete index at {folder}: {exc.__class__.__name__}. Build it again.") from exc
        if meta["embedder"] != embedder.name:
            raise IndexError_(f"The index at {folder} was built with {meta['embedder']!r}, not {embedder.name!r}.")
        index_config = IndexConfig(**meta["index_config"])
        dense = DenseIndex.load(folder / "dense.faiss", index_config, vectors)
        return cls(chunks, vectors, embedder, ChunkConfig(**meta["chunk_config"]), index_config, dense,
                   BM25Index([c.text for c in chunks]))

