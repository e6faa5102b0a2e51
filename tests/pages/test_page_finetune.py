"""The fine-tuning page through the entrypoint: size an adapter, train a few steps, see the real metrics."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.runtime import jobs
from tests.helpers import ROOT
from tests.helpers import tiny_model_dir

PAGE = "pages/5_finetune.py"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model_dir(tmp_path_factory.mktemp("tiny-lm-page"))


@pytest.fixture
def at(model_dir):
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.session_state["generator_name"] = str(model_dir)  # a tiny random model: fast and always available
    app.run()
    app.switch_page(PAGE)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_calculator_updates_with_rank_and_targets(at):
    at.select_slider(key="ft_upper").set_value(1.0)  # every block (a real model's facts preset adapts the upper half)
    at.select_slider(key="ft_rank").set_value(16).run()
    first = int(metric(at, "Trainable parameters").replace(",", ""))
    at.select_slider(key="ft_rank").set_value(32).run()
    doubled = int(metric(at, "Trainable parameters").replace(",", ""))
    assert doubled == 2 * first
    at.multiselect(key="ft_targets").set_value(["q_proj"]).run()
    assert int(metric(at, "Trainable parameters").replace(",", "")) == 32 * (32 + 32) * 2  # r × (in + out) × 2 layers
    at.multiselect(key="ft_targets").set_value([]).run()
    assert any("target_modules must name at least one layer" in e.value for e in at.error)


def test_train_a_few_steps_through_the_page(at):
    at.radio(key="ft_source").set_value("table").run()  # the first 5 corpus rows: cheap to evaluate
    at.number_input(key="ft_steps").set_value(2)
    at.number_input(key="ft_eval_every").set_value(1)
    at.number_input(key="ft_eval_n").set_value(2)
    at.slider(key="ft_open_book").set_value(0.0)
    at.button(key="ft_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run_name = at.session_state["ft_run"]
    job = next(s for s in jobs.jobs() if s.run_dir is not None and s.run_dir.name == run_name)
    assert jobs.QUEUE.wait(job.id, 400).state == "done"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(run_name in m.value and "done" in m.value for m in at.markdown)
    assert metric(at, "Step") == "2 / 2"
    assert metric(at, "Facts recalled").endswith("%")
    assert float(metric(at, "Train loss")) > 0
    assert run_name in at.multiselect(key="ft_compare").value
    assert any(b.label == "Export" for b in at.get("download_button"))


def test_bad_upload_shows_dataset_error(at):
    at.radio(key="ft_source").set_value("upload").run()
    at.file_uploader(key="ft_upload").set_value(("qa.csv", b"question,reply\nWho?,Me\n", "text/csv")).run()
    assert any("missing the column(s) answer" in e.value for e in at.error)


class LosesItsFirstWorker:
    """Runs jobs here, except that the first job's worker dies mid-run, as a killed Ray worker does."""

    name, remote, notice = "local", False, ""

    def __init__(self) -> None:
        self.lost = False

    def run(self, job, ctx):
        from core.runtime.executor import LocalExecutor

        if not self.lost:
            self.lost = True
            ctx.started({"runner": "ray", "worker_pid": 1})
            raise jobs.WorkerLost("The Ray worker running this job stopped before it finished; retry it.")
        return LocalExecutor().run(job, ctx)

    def cluster(self):
        return None


def test_a_run_whose_worker_died_is_interrupted_with_a_retry(at, monkeypatch):
    monkeypatch.setattr(jobs, "QUEUE", jobs.JobQueue(LosesItsFirstWorker()))
    at.radio(key="ft_source").set_value("table").run()
    at.number_input(key="ft_steps").set_value(2)
    at.number_input(key="ft_eval_every").set_value(2)
    at.number_input(key="ft_eval_n").set_value(2)
    at.button(key="ft_start").click().run()
    run_name = at.session_state["ft_run"]
    lost = next(s for s in jobs.jobs() if s.run_dir is not None and s.run_dir.name == run_name)
    assert jobs.QUEUE.wait(lost.id, 60).state == "interrupted"
    at.run()
    assert any("retry it" in w.value for w in at.warning), [w.value for w in at.warning]
    at.button(key="ft_retry").click().run()
    again = jobs.QUEUE.find(lost.run_dir)  # the newest job writing to that run folder
    assert again.id != lost.id and jobs.QUEUE.wait(again.id, 400).state == "done"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(run_name in m.value and "done" in m.value for m in at.markdown)


def test_a_run_the_app_was_training_when_it_stopped_is_retried_from_its_saved_spec(at, model_dir, monkeypatch):
    """After a restart the queue is empty; the run's job.json is enough to train it again from the page."""
    import json
    import os
    from pathlib import Path

    from core.finetune import FinetuneConfig
    from core.finetune.job import training_spec
    from core.rag.corpora import QAItem
    from core.runtime.specs import save_spec

    ws = Path(os.environ["RAGFT_WORKSPACE"]).resolve() / "sessions" / at.session_state["sid"]
    run_dir = ws / "adapters" / "cut-short"
    run_dir.mkdir(parents=True)
    items = [QAItem(f"What colour is item {i}?", f"Item {i} is red.", "red") for i in range(4)]
    spec = training_spec(str(model_dir), 1000, items, FinetuneConfig(max_steps=2, eval_every=2), run_dir)
    save_spec(run_dir, {"owner": str(ws), "label": "cut-short", "lane": "train", "spec": spec})
    (run_dir / "metrics.json").write_text(json.dumps({"status": "running", "started_at": 1.0,
                                                      "steps": [{"step": 1, "loss": 2.5}]}))
    monkeypatch.setattr(jobs, "QUEUE", jobs.JobQueue())  # the restarted server: nothing in its queue
    at.session_state["ft_run"] = "cut-short"
    at.run()
    assert any("The app stopped while this run was training" in w.value for w in at.warning)
    at.button(key="ft_retry").click().run()
    assert not at.exception, [e.value for e in at.exception]
    again = jobs.QUEUE.find(run_dir)
    assert again is not None and jobs.QUEUE.wait(again.id, 400).state == "done"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("cut-short" in m.value and "done" in m.value for m in at.markdown)


def test_a_row_over_the_token_limit_is_refused_before_anything_is_queued(at, monkeypatch):
    monkeypatch.setenv("RAGFT_MAX_EXAMPLE_TOKENS", "8")  # every row of the corpus is longer
    before = len(jobs.QUEUE.jobs())
    at.button(key="ft_start").click().run()
    assert any("makes a training example of" in e.value and "the limit is 8 per example" in e.value for e in at.error)
    assert len(jobs.QUEUE.jobs()) == before and not at.exception


def test_a_run_over_the_memory_limit_per_job_cannot_start(at, monkeypatch):
    """The measured step (its heaviest batch, on a copy) over RAGFT_MAX_JOB_MEMORY_MB: said, and Start is disabled."""
    monkeypatch.setenv("RAGFT_MAX_JOB_MEMORY_MB", "1")
    at.button(key="ft_calibrate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("this server allows 1 MB per training job" in e.value for e in at.error), [e.value for e in at.error]
    assert at.button(key="ft_start").disabled
    monkeypatch.setenv("RAGFT_MAX_JOB_MEMORY_MB", "100000")  # a teacher raises it: the same measurement fits
    at.run()
    assert not at.button(key="ft_start").disabled
