"""Why is this a hit: the matched query terms, the closest sentence, and the score in parts.

For each hit, ``explain_hits`` returns plain data the pages render (and escape):

- ``terms``: the question's BM25 terms found in the chunk, each with its share of the chunk's BM25
  score (rare words weigh more), and ``term_spans``: where those words are in the chunk text;
- ``best_span``: the chunk's sentence (or pair) closest to the question (dense's "why");
- ``parts``: dense cosine, BM25, each retriever's rank and its reciprocal-rank-fusion term
  ``1 / (rrf_k + rank)`` (hybrid's score is their sum), and the rerank scores when a reranker ran.

>>> explain_hits(retriever, "How much is delivery to Ashcombe?", hits)[0].terms   # doctest: +SKIP
[('ashcombe', 3.12), ('delivery', 1.04)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from core.rag.index import Hit
from core.rag.retrieval import FUSION_DEPTH, check_query

WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's default token pattern: words of two or more characters
RERANK_PARTS = ("sentence", "maxsim", "cross_encoder", "rerank")


@dataclass
class Explanation:
    terms: list[tuple[str, float]]  # (BM25 term, its score in this chunk), heaviest first
    term_spans: list[tuple[int, int, str]]  # (start, end, term) inside the chunk text
    best_span: tuple[int, int] | None  # the sentence closest to the question, inside the chunk text
    parts: dict[str, float | int | None] = field(default_factory=dict)


def query_terms(retriever, query: str) -> list[str]:
    """The question's words as BM25 sees them (lower-cased, stopwords dropped), that occur in the corpus."""
    import bm25s

    words = bm25s.tokenize([check_query(query)], stopwords="en", return_ids=False, show_progress=False)[0]
    index = retriever.bm25.bm25  # None when the corpus has no indexable words (stop words only, 1-letter chunks)
    vocab = index.vocab_dict if index is not None else {}
    return list(dict.fromkeys(w for w in words if w in vocab))


def term_spans(text: str, terms: list[str]) -> list[tuple[int, int, str]]:
    """Where each term occurs in ``text`` as a whole word (case-insensitive).

    >>> term_spans("Roses: prune ROSES in May", ["roses"])
    [(0, 5, 'roses'), (13, 18, 'roses')]
    """
    wanted = set(terms)
    return [(m.start(), m.end(), m.group().lower()) for m in WORD.finditer(text) if m.group().lower() in wanted]


def _ranks(scores: np.ndarray, positive_only: bool = False) -> np.ndarray:
    """1-based rank of every item by score (0 = outside the fusion depth, or no BM25 match)."""
    order = np.argsort(-scores, kind="stable")[:FUSION_DEPTH]
    ranks = np.zeros(len(scores), dtype=int)
    ranks[order] = np.arange(1, len(order) + 1)
    if positive_only:
        ranks[scores <= 0] = 0
    return ranks


def explain_hits(retriever, query: str, hits: list[Hit], query_vector: np.ndarray | None = None,
                 store=None) -> list[Explanation]:
    """One ``Explanation`` per hit of this retriever. The closest sentence comes from a reranker's
    ``best_span``, else from ``store`` (a ``core.rag.rerank.FeatureStore``) when given."""
    from core.rag.rerank import best_sentence

    qv = retriever.embed_queries([query])[0] if query_vector is None else np.asarray(query_vector).reshape(-1)
    terms = query_terms(retriever, query)
    per_term = {t: retriever.bm25.scores(t) for t in terms}
    bm25_all = retriever.bm25.scores(query)
    cosines = retriever.vectors @ qv
    dense_rank, bm25_rank = _ranks(cosines), _ranks(bm25_all, positive_only=True)
    position = {(c.doc_id, c.index): i for i, c in enumerate(retriever.chunks)}
    missing = [h for h in hits if "best_span" not in h.details]
    spans = {id(h): best_sentence(qv, f)[1] for h, f in zip(missing, store.get([h.chunk.text for h in missing]))} \
        if store is not None and missing else {}
    out = []
    for hit in hits:
        i = position[(hit.chunk.doc_id, hit.chunk.index)]
        weights = sorted(((t, float(s[i])) for t, s in per_term.items() if s[i] > 0), key=lambda tw: -tw[1])
        parts: dict = {"dense": float(cosines[i]), "bm25": float(bm25_all[i]),
                       "dense_rank": int(dense_rank[i]) or None, "bm25_rank": int(bm25_rank[i]) or None}
        parts["rrf_dense"] = 1 / (retriever.rrf_k + dense_rank[i]) if dense_rank[i] else 0.0
        parts["rrf_bm25"] = 1 / (retriever.rrf_k + bm25_rank[i]) if bm25_rank[i] else 0.0
        parts.update({k: hit.details[k] for k in (*RERANK_PARTS, "first_stage_rank") if k in hit.details})
        span = hit.details.get("best_span") or spans.get(id(hit))
        out.append(Explanation(weights, term_spans(hit.chunk.text, [t for t, _ in weights]),
                               tuple(span) if span else None, parts))
    return out
