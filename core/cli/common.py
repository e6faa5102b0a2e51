"""Arguments and helpers shared by the subcommands: retrieval flags (search, ingest, ask, eval), which model
answers or trains, and where a job runs (ask, eval, finetune)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.rag.chunking import STRATEGIES, UNITS, ChunkConfig
from core.rag.embed_backends import BACKENDS, DEFAULT_BACKEND
from core.rag.index import KINDS, MODES, IndexConfig

_DEFAULT_CHUNK = ChunkConfig()


def add_retrieval_args(parser: argparse.ArgumentParser, docs_required: bool = True, k_default: int | None = 5,
                       k_help: str = "how many chunks to retrieve (default 5)", searches: bool = True) -> None:
    """Document, chunking, index and embedder flags; ``searches=False`` leaves out -k and --mode (ingest)."""
    if docs_required or searches:
        parser.add_argument("--docs", nargs="+", required=docs_required, metavar="PATH", help="files and folders to search")
    if searches:
        parser.add_argument("-k", type=int, default=k_default, help=k_help)
        parser.add_argument("--mode", choices=MODES, default="hybrid",
                            help="dense (embeddings), bm25 (keywords) or hybrid (both, fused by rank) (default hybrid)")
    parser.add_argument("--chunker", choices=STRATEGIES, default=_DEFAULT_CHUNK.strategy, help="chunking strategy")
    parser.add_argument("--chunk-size", type=int, default=_DEFAULT_CHUNK.size, help="chunk size in --unit")
    parser.add_argument("--overlap", type=int, default=_DEFAULT_CHUNK.overlap, help="overlap in --unit")
    parser.add_argument("--unit", choices=UNITS, default=_DEFAULT_CHUNK.unit, help="unit of size and overlap")
    parser.add_argument("--index", choices=KINDS, default="flat", help="FAISS index type (default flat = exact)")
    parser.add_argument("--embedder", default=None, help="sentence-transformers model name or path")
    parser.add_argument("--embedder-backend", choices=BACKENDS, default=None,
                        help=f"torch, onnx (optimised, lossless) or onnx-int8 (quantised); default {DEFAULT_BACKEND}")
    parser.add_argument("--workspace", default=None, help="workspace folder for the embedding cache")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")


def add_rerank_args(parser: argparse.ArgumentParser) -> None:
    """``--rerank METHOD --candidates N [--rerank-model NAME_OR_PATH]`` (search, ask, eval)."""
    from core.rag.rerank import DEFAULT_CANDIDATES, DEFAULT_METHOD, METHODS

    parser.add_argument("--rerank", default=DEFAULT_METHOD, metavar="METHOD",
                        help=f"rerank the first stage's top candidates: {', '.join(METHODS)} (default {DEFAULT_METHOD})")
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES, metavar="N",
                        help=f"first-stage hits the reranker reads (default {DEFAULT_CANDIDATES})")
    parser.add_argument("--rerank-model", default=None, metavar="NAME_OR_PATH",
                        help="the CrossEncoder for --rerank cross-encoder: a local folder or a cached hub id")


def rerank_config(args: argparse.Namespace):
    """The validated ``RerankConfig`` of ``add_rerank_args``' flags (raises ConfigError: exit 2)."""
    from core.rag.rerank import RerankConfig

    return RerankConfig(args.rerank, args.candidates, args.rerank_model)


def reranker_from(args: argparse.Namespace, embedder):
    """A reranker with its features cached in the workspace (unless --no-cache)."""
    from core.rag.rerank import make_reranker

    return make_reranker(embedder, rerank_config(args), None if args.no_cache else workspace_of(args))


def workspace_of(args: argparse.Namespace):
    from core.runtime.workspace import Workspace, default_root

    return Workspace(Path(args.workspace) if args.workspace else default_root())


def chunk_config(args: argparse.Namespace) -> ChunkConfig:
    return ChunkConfig(strategy=args.chunker, size=args.chunk_size, overlap=args.overlap, unit=args.unit)


def build_retriever(args: argparse.Namespace, docs=None):
    """Load documents and the embedder, then chunk, embed (cached) and index them."""
    from core.rag.documents import load_paths
    from core.rag.embedding import EmbeddingCache, load_embedder
    from core.rag.retrieval import Retriever

    config = chunk_config(args)  # validate flags before loading anything slow
    if hasattr(args, "rerank"):
        rerank_config(args)
    docs = load_paths(args.docs) if docs is None else docs
    embedder = load_embedder(args.embedder, args.embedder_backend)
    if embedder.notice:
        print(embedder.notice, file=sys.stderr)
    cache = None
    if not args.no_cache:
        cache = EmbeddingCache(workspace_of(args).path("embeddings"), embedder.cache_key)
    return Retriever.build(docs, embedder, config, IndexConfig(kind=args.index), cache=cache), docs


def read_lines(path: str) -> list[str]:
    """Non-empty lines of a text file (one query or question per line)."""
    return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def add_text_inputs(parser: argparse.ArgumentParser, noun: str, plural: str) -> None:
    """``--NOUN TEXT | --PLURAL-file FILE`` (exactly one): search takes queries, ask takes questions."""
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(f"--{noun}", help=f"one {noun}")
    group.add_argument(f"--{plural}-file", dest="texts_file", help=f"a text file with one {noun} per line")


def text_inputs(args: argparse.Namespace, noun: str) -> list[str]:
    """The texts given by ``add_text_inputs``' flags, in order."""
    single = getattr(args, noun)
    return [single] if single is not None else read_lines(args.texts_file)


# --- which model, where the job runs (ask, eval, finetune) ---------------------------------------------

def model_for(args, qa=None):
    """``(name_or_path, choice)`` for ``args``: ``--model``, else the ``--adapter``'s base, else the one rule
    (``core.llm.choice.choose_model``) over ``--docs`` (then ``qa``). ``choice`` is a ModelChoice for the
    last two (None for ``--model``)."""
    from core.llm.choice import ModelChoice, choose_model

    if args.model:
        return args.model, None
    if getattr(args, "adapter", None):
        from core.finetune.io import base_to_load

        base = base_to_load(args.adapter)
        if base:
            return base, ModelChoice(base, f"{base} is the base model the adapter {Path(args.adapter).name} was "
                                           "trained on", "", 0.0)
    choice = choose_model(docs=getattr(args, "docs", None) or None, qa=qa)
    return choice.name, choice


def say_choice(args, choice) -> None:
    """The model and why, on stderr (the CLI's own messages; JSON output carries it as ``model_choice``)."""
    import sys

    if choice is not None and not getattr(args, "json", False):
        print(f"model: {choice.why}", file=sys.stderr)


def fetch_printer(args):
    """Progress of a first fetch of the English model on stderr (at most one line per stage and 10%)."""
    import sys

    shown = set()

    def show(step) -> None:
        key = (step.stage, int(step.fraction * 10))
        if key not in shown:
            shown.add(key)
            left = f", about {step.seconds_left:.0f} s left" if step.seconds_left is not None else ""
            print(f"fetch: {step.message} ({step.fraction:.0%}{left})", file=sys.stderr, flush=True)
    return show


def choice_dict(name: str, choice) -> dict:
    return choice.to_dict() if choice is not None else {"name": name, "why": "given with --model"}


def add_ray_arg(parser) -> None:
    """``--ray ADDRESS`` (finetune, eval): run the job on that Ray cluster."""
    parser.add_argument("--ray", default=None, metavar="ADDRESS",
                        help="run the job on the Ray cluster at host:port (default: $RAGFT_RAY_ADDRESS, else here)")


def run_job(args, job):
    """Run ``job`` through a job queue on the executor ``--ray`` / ``$RAGFT_RAY_ADDRESS`` asks for; its final status.

    ``job.report``ed metrics reach ``on_progress`` (called when they change). A failed job raises ConfigError
    with the job's own message; an interrupted one (its worker died) says so and how to retry.
    """
    import os
    import time

    from core.errors import ConfigError, LabError
    from core.runtime.ray_executor import ADDRESS_ENV, executor_for
    from core.runtime.jobs import LIVE, JobQueue

    queue = JobQueue(executor_for(getattr(args, "ray", None) or os.environ.get(ADDRESS_ENV)))
    job_id = queue.submit(job)
    while (status := queue.status(job_id)).state in LIVE:
        time.sleep(0.2)
    if status.state == "failed":
        raise ConfigError(status.message)
    if status.state == "interrupted":
        raise LabError(f"{status.message} (the command can simply be run again)")
    return status
