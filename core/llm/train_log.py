"""The built-in models' training logs, read for the Model page's curves (the recipes in ``recipes/`` write them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

LOSS_COLUMNS = ("loss", "lm_loss", "answer_loss", "drill_loss")
PHASE_NAMES = {"burst": "drill burst", "reading": "reading comprehension"}


@dataclass
class TrainLog:
    """What ``train_log.jsonl`` says about a training run, ready to draw."""
    curve: list[dict]  # one row per logged step: "tokens" and the losses
    losses: list[str]  # the loss columns this log has values for
    phases: list[tuple[float, str]]  # (tokens, readable name) where the data mix switched to a named phase
    evals: list[dict]  # the periodic open-book evaluations


def read_train_log(path: Path) -> TrainLog | None:
    """Parse ``train_log.jsonl`` (None when the file is absent); an older run's "stage" stands in for "mix".

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> rows = [{"tokens": 0, "loss": 9.0, "mix": "copy"}, {"tokens": 10, "loss": 5.0, "mix": "burst"},
    ...         {"tokens": 20, "loss": 4.0, "mix": "burst"}, {"step": 2, "open_book": 0.5}]
    >>> _ = (folder / "train_log.jsonl").write_text("\\n".join(json.dumps(r) for r in rows))
    >>> log = read_train_log(folder / "train_log.jsonl")
    >>> log.losses, log.phases, log.evals
    (['loss'], [(10.0, 'drill burst')], [{'step': 2, 'open_book': 0.5}])
    """
    if not path.exists():
        return None
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    curve = [r for r in rows if "loss" in r and "tokens" in r]
    losses = [c for c in LOSS_COLUMNS if any(r.get(c) is not None for r in curve)]
    column = "mix" if any("mix" in r for r in curve) else "stage"
    marks = [r.get(column) for r in curve]
    phases = [(float(curve[i]["tokens"]), PHASE_NAMES[marks[i]]) for i in range(1, len(curve))
              if marks[i] != marks[i - 1] and marks[i] in PHASE_NAMES]
    evals = [r for r in rows if any(k.startswith("open_book") for k in r)]
    return TrainLog(curve, losses, phases, evals)
