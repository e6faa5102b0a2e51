"""Words that must stay true: the model card matches the code's defaults and renders as a table; pages do not
promise what the numbers beside them contradict."""

from __future__ import annotations

import re

from core.finetune import DEFAULT_TARGETS
from tests.helpers import ROOT

CARD = (ROOT / "models" / "lab-tiny-lm" / "MODEL_CARD.md").read_text(encoding="utf-8")


def test_model_card_names_the_default_lora_targets():
    assert all(t in CARD for t in DEFAULT_TARGETS)
    assert "adapter on `q_proj/k_proj/v_proj/o_proj`" not in CARD


def test_model_card_tables_keep_their_columns():
    """A `|` inside a table cell (e.g. `<|system|>`) must be escaped, or the row gains columns and breaks."""
    for block in re.findall(r"(?:^\|.*\|\n)+", CARD, flags=re.M):
        rows = block.strip().splitlines()
        cells = {len(re.split(r"(?<!\\)\|", row)) for row in rows}
        assert len(cells) == 1, rows


def test_pages_make_no_untrue_promises():
    text = " ".join(p.read_text(encoding="utf-8") for p in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])
    assert "fraction of a percent" not in text  # the share metric says 8% for the tiny model
    assert "a few seconds to a minute" not in text


def test_waiting_times_are_measured_not_written_in():
    """Durations on screen come from runs timed on this machine (ui/progress.py), never from a canned string."""
    canned = re.compile(r"(about|~) ?\d+(–\d+)? ?(s|sec|seconds|min|minutes)\b|on 2 cores|half a minute")
    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]:
        if path.name == "progress.py":  # its docstrings show what a measured estimate looks like
            continue
        strings = re.findall(r'"[^"\n]*"', path.read_text(encoding="utf-8"))
        assert not [s for s in strings if canned.search(s)], path.name
