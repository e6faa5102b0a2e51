"""Model page: the built-in model's real training curve, with the points where its data mix changed."""

from __future__ import annotations

import base64
import json

import numpy as np

from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT


def _values(array) -> list:
    """A plotly array as JSON: a plain list, or {"dtype", "bdata"} (base64) in plotly 6."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def test_model_page_plots_the_shipped_training_log_and_its_phases():
    from core.llm.loading import BUILTIN_PATH

    rows = [json.loads(x) for x in (BUILTIN_PATH / "train_log.jsonl").read_text().splitlines() if x.strip()]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/9_model.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    traces = {t["name"]: t for t in spec["data"]}
    assert {"loss", "answer_loss"} <= set(traces)
    xs = _values(traces["loss"]["x"])
    assert list(xs) == [r["tokens"] for r in rows if "loss" in r]  # every logged row, nothing invented
    marks = [a["text"] for a in spec["layout"].get("annotations", [])]
    assert "reading comprehension" in marks  # the switch to the reading mix is marked where the log shows it
