"""Why answers failed, on the pages: the Experiments page's counts, Sankey, drill-down and knob re-run, and the
badge under a wrong answer on the Answers page (both from ``core.failures``)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import open_answers_page, wait_for_eval


@pytest.mark.slow  # a 3-system, 3-question batch evaluation through the job queue
def test_counts_sankey_drill_down_and_a_knob(world, model_name):
    at = open_answers_page("pages/7_experiments.py", world["corpus"].name, model_name)
    at.slider(key="exp_n").set_value(3)
    at.slider(key="exp_para").set_value(0)
    at.button(key="exp_eval_run").click().run()
    wait_for_eval(at)
    charts = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    kinds = [t["type"] for spec in charts.values() for t in spec["data"]]
    assert "sankey" in kinds
    counts = next(spec for spec in charts.values() if any(t.get("name") == "🧠 not learned" for t in spec["data"]))
    assert {t["name"] for t in counts["data"]} >= {"✅ right", "🔍 not retrieved", "✂️ cut from the prompt"}
    assert at.selectbox(key="exp_fail_from").value == "base"
    from core.runtime import jobs

    rows = jobs.status(at.session_state["exp_task_ids"]["eval"]).result.rows
    cut = next(i for i, r in enumerate(rows) if r["system"] == "long-context" and r["failure"] == "cut_from_prompt")
    at.selectbox(key="exp_fail_pick").set_value(cut).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.value == "**Where the value is in the documents**" for m in at.markdown)
    texts = [d.value for d in at.dataframe if "holds the value" in d.value.columns]
    assert texts[0]["text"].iloc[0].startswith("#1 ") and "🎯 yes" in set(texts[0]["holds the value"])  # retrieved
    assert texts[1]["text"].iloc[0] == "passage 1" and "🎯 yes" not in set(texts[1]["holds the value"])  # the prompt
    row = rows[cut]
    at.button(key=f"exp_fail_rerun_long-context_{row['item']}_original_window").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.value.startswith("**After answer cap 48 → 24 tokens") for m in at.markdown)

def test_badge_under_a_wrong_answer(world, model_name):
    at = open_answers_page("pages/6_answers.py", world["corpus"].name, model_name)
    at.selectbox(key="ans_pick").set_value(world["qa"][0].question).run()
    at.slider(key="ans_max_tokens").set_value(24)
    at.button(key="ans_ask").click().run()
    assert not at.exception, [e.value for e in at.exception]
    badges = [m.value for m in at.markdown if m.value.startswith("<span title=")]
    assert any("not learned" in b for b in badges)  # the base model, closed book
    failures = at.session_state["ans_result"]["failures"]
    assert failures["base"]["failure"] == "not_learned" and failures["rag"]["failure"] in ("none", "in_prompt_unused")


@pytest.mark.slow  # a 1-question evaluation with an adapter, then a training job queued and stopped
def test_not_learned_knob_queues_a_training_run(world, generator, model_name):
    from core.runtime import jobs
    from tests.helpers import save_untrained_adapter, session_adapters

    save_untrained_adapter(generator, session_adapters() / "ft-reg")  # learned nothing: LoRA is not_learned
    at = open_answers_page("pages/7_experiments.py", world["corpus"].name, model_name)
    at.slider(key="exp_n").set_value(1)
    at.slider(key="exp_para").set_value(0)
    at.button(key="exp_eval_run").click().run()
    wait_for_eval(at)
    rows = jobs.status(at.session_state["exp_task_ids"]["eval"]).result.rows
    lora = next(i for i, r in enumerate(rows) if r["system"] == "lora")
    assert rows[lora]["failure"] == "not_learned" and rows[lora]["detail"].startswith("trained, not recalled")
    at.selectbox(key="exp_fail_pick").set_value(lora).run()
    at.button(key="exp_fail_rerun_lora_0_original_steps").click().run()
    assert not at.exception, [e.value for e in at.exception]
    train = at.session_state["exp_fail_rerun_lora_0_original_train"]
    assert train["change"] == "epochs 40 → 80" and train["run"].startswith("why-steps")
    jobs.stop(train["job"])
