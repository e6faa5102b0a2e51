"""Checks every subcommand's parsed flags get before any work: counts in range, text that decodes, paths of the right kind.

WHY one place: ``-k 0`` once returned no hits with exit 0, ``-k -1`` nine, and a file given as
``--workspace`` a traceback. Each rule below is stated once and holds for every subcommand that has
the flag (search, ask, eval, reranking included); a broken rule is a ConfigError: exit 2, one line.

>>> import argparse
>>> check_args(argparse.Namespace(k=0))
Traceback (most recent call last):
core.errors.ConfigError: -k must be at least 1 (got 0)
>>> check_args(argparse.Namespace(query="\\udcff\\udcfe"))
Traceback (most recent call last):
core.errors.ConfigError: --query is not valid text in this terminal's encoding ('\\udcff\\udcfe'); use UTF-8
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import ConfigError

# dest → (flag as typed, least value): counts where fewer makes no sense (0 = "off" or "all" where allowed);
# --candidates is checked by RerankConfig (1 to 200), the chunk sizes by ChunkConfig.
AT_LEAST = {
    "k": ("-k", 1), "threads": ("--threads", 0),  # 0: the Lab's rule (finetune), one thread (ask, eval)
    "max_new_tokens": ("--max-new-tokens", 1), "entities": ("--entities", 1), "epochs": ("--epochs", 1),
    "max_steps": ("--steps", 1), "rank": ("--rank", 1), "batch_size": ("--batch-size", 1),
    "micro_batch_size": ("--micro-batch-size", 0), "eval_every": ("--eval-every", 1),
    "paraphrases": ("--paraphrases", 0), "limit": ("--limit", 0), "top_k": ("--top-k", 0),
    "focus": ("--focus", 0), "others": ("--others", 0), "layer": ("--layer", 0), "max_facts": ("--max-facts", 0),
}
# dest → flag: folders the command writes into or reads from (a file there is a mistake, not a folder)
FOLDERS = {"workspace": "--workspace", "out": "--out", "adapter": "--adapter"}
# dest → flag: files the command reads or writes (a folder there is a mistake)
FILES = {"qa": "--qa", "texts_file": "the questions/queries file", "csv": "--csv"}


def check_args(args: argparse.Namespace) -> None:
    """ConfigError (exit 2, one line) for the first flag out of range, undecodable, or of the wrong kind."""
    values = vars(args)
    for dest, value in values.items():
        _check_text(dest, value)
    for dest, (flag, least) in AT_LEAST.items():
        value = values.get(dest)
        if isinstance(value, int) and not isinstance(value, bool) and value < least:
            raise ConfigError(f"{flag} must be at least {least} (got {value})")
    for dest, flag in FOLDERS.items():
        if isinstance(values.get(dest), (str, Path)) and Path(values[dest]).expanduser().is_file():
            raise ConfigError(f"{flag} {_shown(values[dest])} is a file; give a folder")
    for dest, flag in FILES.items():
        path = values.get(dest)
        if isinstance(path, (str, Path)) and Path(path).expanduser().is_dir():
            raise ConfigError(f"{flag} {_shown(path)} is a folder; give a file")
    if isinstance(values.get("texts_file"), str) and not Path(values["texts_file"]).is_file():
        raise ConfigError(f"{_shown(values['texts_file'])} does not exist")


def _check_text(dest: str, value) -> None:
    """Arguments that were not valid in the terminal's encoding reach Python as lone surrogates."""
    for text in value if isinstance(value, list) else [value]:
        if isinstance(text, str) and not _encodes(text):
            flag = "--" + dest.replace("_", "-") if dest != "paths" else "a path"
            raise ConfigError(f"{flag} is not valid text in this terminal's encoding ({_shown(text)}); use UTF-8")


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(value) -> str:
    """A value as printable ASCII-safe text (an undecodable one must not break the error message itself)."""
    text = str(value)
    return repr(text) if not _encodes(text) else text
