"""The Experiments page through the entrypoint: a tiny knowledge update, a 2-question batch eval, forgetting."""

from __future__ import annotations

import json

import pytest
import shutil

from streamlit.testing.v1 import AppTest
from tests.helpers import open_answers_page, session_adapters, trained_adapter, wait_for_eval


PAGE = "pages/7_experiments.py"


def frame_with(at: AppTest, column: str):
    """The shown dataframe that has ``column`` (AppTest does not expose dataframe keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.mark.slow
def test_knowledge_update_batch_eval_and_forgetting(world, generator, model_name):
    shutil.copytree(trained_adapter(generator, world["qa"]), session_adapters() / "ft-reg")
    at = open_answers_page(PAGE, world["corpus"].name, model_name)
    item = world["qa"][0]

    # knowledge update: edit the first fact, re-index, ask again
    assert at.selectbox(key="exp_fact").value == 0
    # a round price, so that the check is about following the edited document, not about reading cents
    new_value = "$45.00" if item.value.startswith("$") else f"{item.value}9"
    at.text_input(key="exp_new_value").set_value(new_value)
    at.button(key="exp_ku_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Re-index"].endswith(" s")
    changed, total = metrics["Chunks re-embedded"].split(" of ")
    assert 1 <= int(changed) <= 2 < int(total)  # only the edited chunk(s), not the corpus
    assert metrics["Retraining the adapter"].endswith(" s")
    titles = [m.value for m in at.markdown if m.value.startswith("**RAG") or m.value.startswith("**LoRA")]
    assert titles == ["**RAG, before the edit**", "**RAG, after the edit**", "**LoRA, after the edit**",
                      "**LoRA + RAG, after the edit**"]
    summary = at.success[0].value
    verdicts = [m.value for m in at.markdown if m.value in ("✅ new value", "🕰️ old value", "➖ neither value")]
    assert len(verdicts) == 4  # RAG before, RAG after, LoRA, LoRA + RAG
    if verdicts[0] == "🕰️ old value":  # RAG read the old fact, so it must read the new one
        assert verdicts[1] == "✅ new value" and "RAG follows the new fact" in summary, summary
    if model_name is None:  # the built-in model: RAG reads the old fact, then the new one; LoRA stays stale
        assert verdicts[:3] == ["🕰️ old value", "✅ new value", "🕰️ old value"], verdicts
        assert "RAG follows the new fact" in summary and "LoRA still gives the old value" in summary, summary

    # batch evaluation: two questions, one paraphrase each
    tab = at.tabs[1]
    assert tab.selectbox(key="exp_ad_qa").value == "ft-reg"
    assert tab.selectbox(key="exp_ad_par").value == "(not trained yet)"
    assert any(b.label.startswith("Train it now") for b in tab.button)
    at.slider(key="exp_n").set_value(2)
    at.slider(key="exp_para").set_value(1)
    at.button(key="exp_eval_run").click().run()
    wait_for_eval(at)
    table = frame_with(at, "status")
    measured = table[table["status"] == "measured"]
    assert list(measured["system"]) == ["base (base)", "rag (RAG)", "lora (Q&A pairs; paper: FT-reg)",
                                        "lora+rag (Q&A pairs + RAG; paper: FT-reg + RAG)",
                                        "long-context (not in the paper)"]
    assert list(measured["paper's setting"])[2] == "LoRA on the documents"  # what the paper's row trained on
    assert (measured["n"] == 4).all()  # 2 questions × (original + 1 paraphrase)
    assert list(table["Ovadia 2023 (Mistral-7B)"])[:6] == [0.481, 0.875, 0.504, 0.588, 0.810, 0.830]
    assert table["Ovadia 2023 (Mistral-7B)"].isna().iloc[6]  # long context is not in the paper
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in chart["data"]][-1].startswith("Ovadia et al. 2023")
    assert at.main.get("download_button")[0].proto.label.startswith("Download per-question rows")

    # forgetting: general questions before and after LoRA
    at.button(key="exp_fg_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [m.label for m in at.metric]
    assert "Base model" in labels and "With ft-reg" in labels
    assert len(frame_with(at, "before_correct")) >= 6


@pytest.mark.slow
def test_how_sure_tab_and_weight_edit(world, generator, model_name):
    at = open_answers_page(PAGE, world["corpus"].name, model_name, sid="experimentssure")
    at.slider(key="exp_sure_n").set_value(3)
    at.button(key="exp_sure_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = frame_with(at, "median")
    medians = dict(zip(table["system"], table["median"]))
    assert set(medians) == {"base", "rag", "long-context"}  # no adapter: the LoRA systems are left out
    if model_name is None:  # the built-in model reads the chunk: the right value becomes likely
        assert medians["rag"] > 0.5 > 0.05 > medians["base"], medians

    item = world["qa"][0]
    at.text_input(key="exp_new_value").set_value("$99.00" if item.value.startswith("$") else f"{item.value}9").run()
    at.button(key="exp_rome_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert {"Reliability", "Generality", "Locality", "Edited layer"} <= set(metrics)
    edit = frame_with(at, "check")
    assert set(edit["check"]) == {"reliability", "generality", "locality"}
    assert at.session_state["exp_rome_result"]["question"] == item.question
