"""The Lab's command line: one module per subcommand.

Each module in ``COMMANDS`` defines ``add_parser(subparsers)`` (which sets
``func`` on its parser) so that subcommands stay small and independent.
Flags and JSON shapes printed here are public interfaces: extend, never change.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import sys

# Subcommand modules, in the order ``--help`` lists them.
COMMANDS = ["search", "ingest", "world", "ask", "finetune", "eval", "edit", "questions", "warmup"]
# Subcommands whose unset flags fall back to a config dataclass: --help shows that class's defaults.
CONFIG_DEFAULTS = {"finetune": "core.finetune:FinetuneConfig"}


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the docstring's layout (usage lines, JSON shapes) and shows every flag's default.

    ``config`` ("module:Class") supplies defaults for flags whose parser default is None; it is imported
    only when help is printed (the fine-tuning config pulls in torch).
    """

    def __init__(self, *args, config: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._config = config

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default if action.default is not None else self._config_default(action.dest)
        if action.option_strings and _shown(default) and "default" not in text:
            shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else default
            text += f" (default: {str(shown).replace('%', '%%')})"
        return text

    @functools.lru_cache(maxsize=None)  # noqa: B019 (one formatter per --help)
    def _config_default(self, dest: str):
        if not self._config:
            return None
        module, name = self._config.split(":")
        fields = {f.name: f.default for f in dataclasses.fields(getattr(importlib.import_module(module), name))}
        value = fields.get(dest)
        return None if value is dataclasses.MISSING else value


def _shown(default) -> bool:
    """Whether a default is worth printing (not unset, not an off switch, not empty)."""
    return not (default is None or default is False or default is argparse.SUPPRESS or default in ("", [], ()))


def plain(text: str | None) -> str | None:
    """A docstring as terminal text: no reST double backticks."""
    return text.replace("``", "") if text else text


class OneLineParser(argparse.ArgumentParser):
    """argparse's own errors (a missing flag, ``-k x``) as ONE line on stderr and exit 2, like the Lab's own."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m core", description="RAG ⇄ Fine-Tune Lab command line")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"core.cli.{name}").add_parser(sub)
    for name, command in sub.choices.items():
        command.formatter_class = functools.partial(HelpFormatter, config=CONFIG_DEFAULTS.get(name))
        command.description = plain(command.description)
    return parser


def quiet_libraries() -> None:
    """The CLI's stderr is for the Lab's own messages: no library deprecation warnings or weight-loading bars."""
    import logging
    import os
    import warnings

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def main(argv: list[str] | None = None) -> int:
    from core.errors import LabError

    from core.cli.checks import check_args

    args = build_parser().parse_args(argv)
    if args.command in ("ask", "eval", "finetune", "warmup", "edit"):
        quiet_libraries()
    try:
        check_args(args)
        return int(args.func(args) or 0)
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
