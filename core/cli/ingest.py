"""``python -m core ingest PATH…``: chunk, embed and index files, and save the index in the workspace."""

from __future__ import annotations

import argparse

from core.cli.common import add_retrieval_args, build_retriever, print_json


def add_parser(sub) -> None:
    parser = sub.add_parser("ingest", help="build and save the workspace index", description=__doc__)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files and folders to ingest")
    add_retrieval_args(parser, docs_required=False, searches=False)
    parser.add_argument("--name", default="default", help="index name in the workspace (default: default)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    # Accepted as before (scripts may pass them) but unlisted: they never did anything for ingest.
    parser.add_argument("--docs", nargs="+", default=None, help=argparse.SUPPRESS)
    parser.add_argument("-k", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.runtime.workspace import Workspace, default_root

    args.docs = args.paths
    retriever, docs = build_retriever(args)
    workspace = Workspace(args.workspace or default_root())
    folder = retriever.save(workspace.path("indexes", args.name), docs)
    s = retriever.stats
    summary = {
        "index": str(folder),
        "documents": s.n_documents,
        "chunks": s.n_chunks,
        "newly_embedded": s.n_embedded,
        "seconds": {"chunk": round(s.seconds_chunk, 3), "embed": round(s.seconds_embed, 3), "index": round(s.seconds_index, 3)},
        "chunk_config": retriever.chunk_config.to_dict(),
        "index_config": retriever.index_config.to_dict(),
        "embedder_backend": retriever.embedder.backend,
    }
    if args.json:
        print_json(summary)
    else:
        print(f"Indexed {s.n_documents} documents into {s.n_chunks} chunks ({s.n_embedded} newly embedded) → {folder}")
        print(f"  chunk {s.seconds_chunk:.2f}s · embed {s.seconds_embed:.2f}s · index {s.seconds_index:.2f}s")
    return 0
