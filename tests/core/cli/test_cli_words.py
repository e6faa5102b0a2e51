"""The CLI's words: readable --help with defaults, no flags that mean nothing, a warning when the built-in
model meets prose, and a quiet stderr on a normal ``ask``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.cli import build_parser
from core.rag.corpora import builtin_model_reads_paths
from core.world import generate_world, write_world
from tests.helpers import ROOT

WORLD = ROOT / "sample_data" / "world_arcade"
PROSE = ROOT / "sample_data" / "prose_flower_shop"


def help_text(command: str, capsys) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    return capsys.readouterr().out


@pytest.mark.parametrize("command", ["search", "ingest", "world", "ask", "finetune", "eval"])
def test_help_keeps_its_layout_and_has_no_rst(command, capsys):
    text = help_text(command, capsys)
    assert "``" not in text
    assert "sample_data/world_a/" not in text  # names folders that exist


def test_help_shows_defaults_including_config_ones(capsys):
    assert "(default: 192)" in help_text("search", capsys)  # --chunk-size
    finetune = help_text("finetune", capsys)
    assert "LoRA rank r (default: " in finetune and "learning rate (default: " in finetune
    ask = help_text("ask", capsys)
    assert "\n    python -m core ask --docs PATH" in ask  # the usage example keeps its own line


def test_ingest_lists_no_search_flags(capsys):
    text = help_text("ingest", capsys)
    assert "--mode" not in text and "\n  -k " not in text and "--chunk-size" in text
    assert (ROOT / "sample_data" / "world_arcade" / "docs").is_dir()  # the eval example's folder exists


@pytest.mark.parametrize("paths, reads", [([WORLD / "docs"], True), ([WORLD / "docs" / "wilarmore-blender.md"], True),
                                          ([PROSE], False), ([WORLD / "docs", PROSE], False), ([], False)])
def test_which_documents_the_builtin_model_reads(paths, reads):
    assert builtin_model_reads_paths(paths) is reads


def test_a_fresh_world_is_marked_readable(tmp_path):
    write_world(generate_world(7), tmp_path / "w")
    assert builtin_model_reads_paths([tmp_path / "w" / "docs"])


@pytest.mark.slow
def test_ask_on_a_world_corpus_says_only_which_model_reads_it():
    out = subprocess.run([sys.executable, "-m", "core", "ask", "--docs", str(WORLD / "docs"),
                          "--question", "How much is the Wilarmore Blender?"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    # one line, the model and why: no deprecation warning, no weight-loading bar
    [line] = out.stderr.splitlines()
    assert line.startswith("model: lab-tiny-lm reads the documents, because"), out.stderr
    assert "rerank:fused " in out.stdout and "re-ordered" in out.stdout  # the default: hybrid, then reranked
