"""The training script: a short smoke run lowers the loss, exports a loadable folder, resumes, and starts stage 2."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_smoke_training_loss_falls_exports_and_resumes(tmp_path):
    from core.llm.generation import generate
    from core.llm.loading import load_generator
    from recipes.train import main
    from core.llm.prompting import build_messages

    out, ckpt = tmp_path / "model", tmp_path / "ckpt"
    assert main(["--out", str(out), "--ckpt", str(ckpt), "--smoke", "--tokens", "45000", "--threads", "1", "--batch-tokens", "4096",
                 "--buffer", "24"]) == 0
    log = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines()]
    assert log[-1]["loss"] < log[0]["loss"] - 0.5
    mixes = [r["mix"] for r in log]
    assert mixes[0] == "early" and "burst" in mixes  # the one-run recipe's drill burst starts at 15% of the budget
    assert log[-1]["drill_loss"] is not None  # drills were seen and their answer loss is tracked
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["finished"] and metrics["tokens"] >= 45000
    for name in ("config.json", "model.safetensors", "tokenizer.json", "generation_config.json"):
        assert (out / name).exists()
    gen = load_generator(str(out), cache=False)
    assert generate(gen, build_messages("Who owns Elmby Blooms?", None), max_new_tokens=4).completion_tokens <= 4

    steps = metrics["steps"]
    with open(ckpt / "train_log.jsonl", "a") as fh:  # a row logged after the checkpoint, by a run that then died
        fh.write(json.dumps({"step": 10**6, "tokens": 1, "loss": 0.0}) + "\n")
    assert main(["--out", str(out), "--ckpt", str(ckpt), "--smoke", "--tokens", "65000", "--threads", "1", "--batch-tokens", "4096",
                 "--buffer", "24", "--resume"]) == 0
    resumed = json.loads((out / "metrics.json").read_text())
    assert resumed["steps"] > steps and resumed["tokens"] >= 65000
    log2 = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines()]
    assert len(log2) > len(log) and log2[: len(log)] == log  # the dead run's row is gone
    assert all(r["step"] < 10**6 for r in log2)

    # stage 2 ("reading") resumes the same weights with its own data stream and a fresh warm-up
    assert main(["--out", str(out), "--ckpt", str(ckpt), "--smoke", "--tokens", "85000", "--threads", "1", "--batch-tokens", "4096",
                 "--buffer", "24", "--resume", "--stage", "reading"]) == 0
    staged = json.loads((out / "metrics.json").read_text())
    assert staged["stage"] == "reading" and staged["steps"] > resumed["steps"] and staged["tokens"] >= 85000
    log3 = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines()]
    new_rows = log3[len(log2):]
    assert new_rows and new_rows[0]["lr"] <= 0.5 * 3e-3  # warming up again, not jumping to the peak (3e-3)


def test_one_run_recipe_moves_to_reading_when_copying_forms():
    from recipes.train import BURST_FROM, BURST_UNTIL, single_run_mix

    assert single_run_mix(0.0, False) == "early"
    assert single_run_mix(BURST_FROM, False) == "burst"
    assert single_run_mix(BURST_FROM, True) == "reading"  # copying formed: stop drilling, start reading
    assert single_run_mix(BURST_UNTIL, False) == "reading"  # at the latest
