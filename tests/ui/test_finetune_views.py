"""The fine-tuning page's live-panel arithmetic and the probe table, on hand-written metrics."""

from __future__ import annotations

import pytest

from core.rag.corpora import QAItem
from ui.finetune_views import good_enough, probe_table, run_progress

METRICS = {"config": {"max_steps": 40}, "started_at": 1000.0,
           "steps": [{"step": 10, "loss": 1.0}], "evals": [{"step": 0, "facts_recalled": 0.1}]}


@pytest.mark.parametrize("metrics, live, now, fraction, words", [
    ({}, None, 0.0, 0.0, "Preparing"),
    ({**METRICS, "steps": []}, None, 1010.0, 0.0, "measuring the base model first"),
    ({**METRICS, "steps": []}, None, 1010.0, 0.0, "· 10 s so far"),
    (METRICS, None, 1020.0, 0.25, "Step 10 / 40 · 20 s so far · about 60 s left"),
    (METRICS, {"step": 20}, 1020.0, 0.5, "Step 20 / 40 · 20 s so far · about 20 s left"),  # the job's newer step
])
def test_run_progress_estimates_from_the_pace_so_far(metrics, live, now, fraction, words):
    done, text = run_progress(metrics, live, now)
    assert done == pytest.approx(fraction)
    assert words in text


def test_the_first_evaluation_counts_down_from_its_measured_time():
    _, text = run_progress({**METRICS, "steps": []}, None, 1010.0, eval_s=25.0)
    assert text.endswith("· 10 s so far · about 15 s left (measured)")


def test_good_enough_at_eighty_percent():
    assert not good_enough(METRICS)
    assert good_enough(METRICS, {"facts_recalled": 0.8})
    assert good_enough({"evals": [{"step": 10, "facts_recalled": 0.96}]})


def test_probe_table_puts_the_adapter_next_to_the_question():
    items = [QAItem(question="Price of X?", answer="It costs 5 coins.", value="5 coins")]
    df = probe_table(items, ["7 coins"], ["5 coins"], lambda ans, it: it.value in ans)
    assert list(df.columns)[:3] == ["question", "adapter", "adapter ✓"]
    assert df.iloc[0]["adapter ✓"] == "✅" and df.iloc[0]["base ✓"] == "❌"


def test_tables_show_a_dash_not_none():
    import pandas as pd

    from ui.finetune_views import no_none

    shown = no_none(pd.DataFrame([{"run": "a", "s to 80%": None, "rank": 2}, {"run": "b", "s to 80%": 3.5, "rank": None}]))
    assert shown.iloc[0]["s to 80%"] == "–" and shown.iloc[1]["rank"] == "–" and shown.iloc[1]["s to 80%"] == 3.5
