"""``python -m core search``: retrieve the top-k chunks for one query or a file of queries.

JSON (``--json``): a list of hits, each
``{"document": file name, "start": int, "end": int, "score": float, "rank": int, "text": str,
"first_stage_rank": int, "first_stage_score": float}``; with ``--queries-file``, a list of such
lists in the file's order. With reranking on (``--rerank``, default ``fused``), ``score`` is the
rerank score and ``first_stage_rank`` the hit's rank before reranking (``--rerank none``: equal to ``rank``).
"""

from __future__ import annotations

from core.cli.common import (add_rerank_args, add_retrieval_args, add_text_inputs, build_retriever, print_json,
                             reranker_from, text_inputs)


def add_parser(sub) -> None:
    parser = sub.add_parser("search", help="retrieve chunks for a query", description=__doc__)
    add_retrieval_args(parser)
    add_rerank_args(parser)
    add_text_inputs(parser, "query", "queries")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def hit_json(hit) -> dict:
    c = hit.chunk
    return {"document": c.doc_name, "start": c.start, "end": c.end, "score": round(hit.score, 6), "rank": hit.rank,
            "text": c.text, "first_stage_rank": hit.details.get("first_stage_rank", hit.rank),
            "first_stage_score": round(hit.details.get("first_stage_score", hit.score), 6)}


def run(args) -> int:
    from core.rag.retrieval import check_query

    queries = text_inputs(args, "query")
    for query in queries:
        check_query(query)  # a bad query exits 2 before the corpus is embedded, not after
    retriever, _ = build_retriever(args)
    results = reranker_from(args, retriever.embedder).search_many(retriever, queries, k=args.k, mode=args.mode)
    if args.json:
        rows = [[hit_json(h) for h in hits] for hits in results]
        print_json(rows[0] if args.query is not None else rows)
        return 0
    for query, hits in zip(queries, results):
        print(f"? {query}")
        for h in hits:
            snippet = " ".join(h.chunk.text.split())[:110]
            moved = f"(was {h.details['first_stage_rank']:>2}) " if args.rerank != "none" else ""
            print(f"  {h.rank:>2}. {moved}{h.score:8.4f}  {h.chunk.doc_name}[{h.chunk.start}:{h.chunk.end}]  {snippet}")
    return 0
