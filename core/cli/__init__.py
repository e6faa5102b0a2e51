"""The Lab's command line: one module per subcommand.

Each module in ``COMMANDS`` defines ``add_parser(subparsers)`` (which sets
``func`` on its parser) so that subcommands stay small and independent.
Flags and JSON shapes printed here are public interfaces: extend, never change.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand modules, in the order ``--help`` lists them.
COMMANDS = ["search", "ingest", "world", "ask", "finetune", "eval", "edit"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="RAG ⇄ Fine-Tune Lab command line")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"core.cli.{name}")
        except ModuleNotFoundError as exc:  # a subcommand not written yet
            if exc.name != f"core.cli.{name}":
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from core.errors import LabError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
