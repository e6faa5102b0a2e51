"""Many users on one server, and nothing lost: sessions are isolated, cached models are never changed,
concurrent sessions do not talk across, work survives a restart, and training jobs queue.

Every session is an ``AppTest`` run through ``app.py`` with its own ``?sid=``, as a browser tab would be.
The browser half of "survives a page refresh" is ``tests/browser/test_flows.py::test_training_survives_refresh``.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import streamlit as st
import torch

from core.runtime import jobs
from core.rag.corpora import QAItem
from core.finetune import FinetuneConfig, load_adapter
from core.finetune.job import new_run_dir, training_job
from core.llm.loading import load_generator
from core.runtime.workspace import Workspace, default_root
from tests.helpers import ANSWERS, DOCUMENTS, FINETUNE, NOTE, answers_shown, start, upload

pytestmark = pytest.mark.usefixtures("fresh_embedding_cache")  # counts what gets embedded

FACTS = [QAItem("When does the greenhouse open?", "At nine.", "nine"),
         QAItem("Where is the key?", "Under the blue pot.", "blue pot"),
         QAItem("What do tomatoes need?", "Warm nights.", "warm nights")]
TINY_RUN = FinetuneConfig(rank=2, alpha=4.0, max_steps=2, eval_every=2, open_book_mix=0.0, val_fraction=0.0,
                          max_new_tokens=4, max_eval_questions=2, batch_size=4)


@pytest.fixture
def queue(monkeypatch):
    """A fresh process-wide job queue (what a restarted server starts with)."""
    fresh = jobs.JobQueue()
    monkeypatch.setattr(jobs, "QUEUE", fresh)
    return fresh


def session_ws(sid: str) -> Workspace:
    return Workspace(default_root()).session(sid)


def train_adapter(model_dir: str, sid: str, label: str = "lora") -> str:
    """Train a 2-step LoRA run into ``sid``'s workspace through the job queue; return the run folder name."""
    gen = load_generator(model_dir)
    ws = session_ws(sid)
    run_dir = new_run_dir(ws.path("adapters"), label)
    job = jobs.submit(training_job(str(ws.root), run_dir, gen.model, gen.tokenizer, FACTS, TINY_RUN, base_name=gen.name))
    assert jobs.QUEUE.wait(job, 300).state == "done", jobs.status(job).message
    return run_dir.name


def saved_adapter_lines(at) -> str:
    return " ".join(m.value for m in at.markdown)


def files_listed(at) -> set[str]:
    return set(at.dataframe[0].value["file"]) if len(at.dataframe) else set()


def test_uploads_and_adapters_are_private_to_a_session(queue, tiny_model):
    alice = upload(start("alice", DOCUMENTS, corpus="uploads"), {"alice-secret.txt": NOTE})
    assert files_listed(alice) == {"alice-secret.txt"}
    bob = start("bob", DOCUMENTS, corpus="uploads")
    assert files_listed(bob) == set() and any("No documents yet" in i.value for i in bob.info)
    assert [p.name for p in session_ws("alice").path("uploads").iterdir()] == ["alice-secret.txt"]
    assert list(session_ws("bob").path("uploads").iterdir()) == []

    run = train_adapter(tiny_model, "alice")
    alice_ft = start("alice", FINETUNE, generator_name=tiny_model)
    bob_ft = start("bob", FINETUNE, generator_name=tiny_model)
    assert run in saved_adapter_lines(alice_ft)
    assert run not in saved_adapter_lines(bob_ft) and "No saved adapters yet." in [c.value for c in bob_ft.caption]
    assert [j.run_dir.name for j in jobs.jobs(str(session_ws("bob").root))] == []


def test_models_load_once_and_are_never_changed(queue, tiny_model):
    from ui.resources import get_generator

    gen = load_generator(tiny_model)
    assert load_generator(tiny_model) is gen and get_generator(tiny_model) is get_generator(tiny_model)
    before = {k: v.clone() for k, v in gen.model.state_dict().items()}
    run = train_adapter(tiny_model, "weights")
    after_training = gen.model.state_dict()
    assert after_training.keys() == before.keys()
    assert all(torch.equal(before[k], after_training[k]) for k in before), "LoRA training changed the cached base"

    adapted = load_adapter(gen, session_ws("weights").path("adapters", run))
    assert adapted.model is not gen.model
    assert any("lora_" in name for name, _ in adapted.model.named_parameters())
    assert not any("lora_" in name for name, _ in gen.model.named_parameters())
    assert all(torch.equal(before[k], v) for k, v in gen.model.state_dict().items()), "loading an adapter changed it"


@pytest.fixture
def one_runtime(monkeypatch):
    """One Streamlit runtime for every thread, as on a real server.

    AppTest installs a mock runtime at the start of each run and removes it at the end, which is
    only right when runs take turns; here runs overlap, so keep a shared one in place meanwhile.
    AppTest also gives each run its own script cache, so overlapping runs compile pages at the same
    time, which CPython 3.11's ``ast.parse`` does not survive ("AST constructor recursion depth
    mismatch", gh-106905); a server's single script cache compiles under one lock, and so do these.
    And each run switches on the ``global.appTest`` option by patching ``config.get_option`` for its
    duration only, so a run that ends switches it off under another that is still building its
    widgets (then a selectbox's format function is missing: KeyError in ``get_widget_states``);
    here it stays on for the whole test.
    """
    from contextlib import nullcontext

    import streamlit.testing.v1.app_test as app_test_module
    from streamlit import config
    from streamlit.testing.v1.util import build_mock_config_get_option

    monkeypatch.setattr(config, "get_option", build_mock_config_get_option({"global.appTest": True}))
    monkeypatch.setattr(app_test_module, "patch_config_options", lambda overrides: nullcontext())
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    compile_lock, get_bytecode = threading.Lock(), ScriptCache.get_bytecode

    def locked_get_bytecode(self, script_path):
        with compile_lock:
            return get_bytecode(self, script_path)

    monkeypatch.setattr(ScriptCache, "get_bytecode", locked_get_bytecode)
    from unittest.mock import MagicMock

    from streamlit.runtime import Runtime
    from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    shared = MagicMock(spec=Runtime)
    shared.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    shared.cache_storage_manager = MemoryCacheStorageManager()
    monkeypatch.setattr(Runtime, "instance", classmethod(lambda cls: cls._instance or shared))
    monkeypatch.setattr(Runtime, "exists", classmethod(lambda cls: True))


def test_concurrent_sessions_do_not_talk_across(one_runtime):
    """Four sessions upload at the same time in threads; each sees exactly its own file, painted."""
    n = 4
    barrier = threading.Barrier(n)
    start("warm-up", DOCUMENTS, corpus="uploads")  # models load once, as on a server that is already up

    def user(i: int) -> tuple[set[str], str, list[str]]:
        try:
            at = start(f"user{i}", DOCUMENTS, corpus="uploads")
        except BaseException:
            barrier.abort()  # the others stop waiting; this thread's own error is the one reported
            raise
        barrier.wait(timeout=600)  # everybody uploads at once (the first runs load models: slow on a busy machine)
        upload(at, {f"user{i}.txt": f"User {i} keeps the code word zebra{i} in this note. {NOTE.decode()}".encode()})
        painted = at.get("html")[1].proto.body if len(at.get("html")) > 1 else ""
        return files_listed(at), painted, [e.value for e in at.exception]

    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(user, i) for i in range(n)]
    errors = [f.exception() for f in futures if f.exception() is not None]
    first_cause = next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), None)
    if first_cause or errors:
        raise first_cause or errors[0]
    results = [f.result() for f in futures]
    for i, (files, painted, raised) in enumerate(results):
        assert not raised, raised
        assert files == {f"user{i}.txt"}
        assert f"zebra{i}" in painted
        assert not any(f"zebra{j}" in painted for j in range(n) if j != i)
        assert [p.name for p in session_ws(f"user{i}").path("uploads").iterdir()] == [f"user{i}.txt"]


def test_uploads_and_runs_survive_an_app_restart(queue, tiny_model, monkeypatch):
    upload(start("keep", DOCUMENTS, corpus="uploads"), {"notes.txt": NOTE})
    run = train_adapter(tiny_model, "keep")
    crashed = session_ws("keep").path("adapters", "crashed-run")
    crashed.mkdir()
    (crashed / "metrics.json").write_text('{"status": "running", "started_at": 9e9, "steps": [{"step": 1, "loss": 2.5}]}')

    # The restart: a new process has empty caches and an empty job queue; only the workspace folder remains.
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setattr(jobs, "QUEUE", jobs.JobQueue())
    docs = start("keep", DOCUMENTS, corpus="uploads")
    assert files_listed(docs) == {"notes.txt"} and docs.metric[0].value == "1"
    ft = start("keep", FINETUNE, generator_name=tiny_model)
    assert run in saved_adapter_lines(ft)
    assert any("crashed-run" in m.value and "interrupted" in m.value for m in ft.markdown)
    assert any("The app stopped while this run was training" in w.value for w in ft.warning)
    other = start("someone-else", FINETUNE, generator_name=tiny_model)
    assert run not in saved_adapter_lines(other)


def test_second_training_job_waits_with_its_queue_position(queue, tiny_model):
    release = threading.Event()

    def busy(ctx):  # someone else's long run holds the single worker
        while not release.is_set() and not ctx.should_stop():
            release.wait(0.05)

    blocker = jobs.submit(jobs.Job("another-user", session_ws("another-user").path("runs", "long"), busy))
    try:
        first, second = (start(sid, FINETUNE, generator_name=tiny_model) for sid in ("queue1", "queue2"))
        for at in (first, second):
            at.number_input(key="ft_steps").set_value(2)
            at.number_input(key="ft_eval_every").set_value(2)
            at.button(key="ft_start").click().run()
            assert not at.exception, [e.value for e in at.exception]
        for at, position in ((first, 1), (second, 2)):
            status = " ".join(m.value for m in at.markdown if at.session_state["ft_run"] in m.value)
            assert "queued" in status and f"position {position} in the queue" in status, status
        assert queue.status(blocker).state == "running"
        mine = [s for s in queue.jobs() if s.owner.endswith(("queue1", "queue2"))]
        assert sorted(s.position for s in mine) == [1, 2]
    finally:
        release.set()
        for s in queue.jobs():
            queue.stop(s.id)
        for s in queue.jobs():  # let the worker finish before the interpreter exits (torch threads abort otherwise)
            queue.wait(s.id, 120)
    assert queue.wait(blocker, 30).state in ("done", "stopped")


N_LEARNERS = 10


def one_learner(i: int, corpus: str, qa: list[QAItem], barrier: threading.Barrier) -> dict:
    """A learner's first minutes: ask the Answers page a corpus question, train a 2-step run, look again."""
    try:
        at = start(f"learner{i:02d}", ANSWERS, corpus=corpus)
    except BaseException:
        barrier.abort()  # the others stop waiting; this thread's own error is the one reported
        raise
    barrier.wait(timeout=600)  # everybody asks at once
    t0 = time.perf_counter()
    item = qa[i % len(qa)]
    at.text_input(key="ans_question").set_value(item.question)
    at.slider(key="ans_max_tokens").set_value(16)
    at.button(key="ans_ask").click().run()
    seen = {"item": item, "answers": answers_shown(at), "answered_s": time.perf_counter() - t0,
            "verdicts": [m.value for m in at.markdown if m.value.startswith(("✅", "❌"))],
            "errors": [e.value for e in at.exception]}

    at.switch_page(FINETUNE)
    at.run()
    at.radio(key="ft_source").set_value("table").run()  # five typed rows: a short evaluation
    at.number_input(key="ft_steps").set_value(2)
    at.number_input(key="ft_eval_every").set_value(2)
    at.number_input(key="ft_eval_n").set_value(2)
    # a rank and paraphrase count of its own: run names are made of both (and the second), so no two
    # sessions' runs share a name and a run shown in the wrong session would be seen
    at.select_slider(key="ft_rank").set_value([1, 2, 4, 8, 16][i % 5])
    at.slider(key="ft_paraphrases").set_value(i // 5)
    at.button(key="ft_start").click().run()
    seen["errors"] += [e.value for e in at.exception]
    run = seen["run"] = at.session_state["ft_run"]
    seen["job"] = jobs.QUEUE.wait(jobs.QUEUE.find(session_ws(f"learner{i:02d}").path("adapters", run)).id, 900)
    at.run()  # the page after the run: its headline, the saved adapters
    seen["finetune_text"] = " ".join(m.value for m in at.markdown)
    at.switch_page(ANSWERS)
    at.run()  # the adapter picker lists this session's adapters only
    picker = at.selectbox(key="ans_adapter") if "ans_adapter" in at.session_state else None
    seen["adapters"] = [o.split(" (rank")[0] for o in picker.options] if picker else []  # "name (rank r · …)"
    seen["errors"] += [e.value for e in at.exception]
    seen["owned_jobs"] = [s.run_dir.name for s in jobs.jobs(str(session_ws(f"learner{i:02d}").root))]
    seen["trained_s"] = time.perf_counter() - t0
    return seen


@pytest.mark.slow
def test_ten_sessions_answer_and_train_at_once(one_runtime, queue, one_torch_thread, world):
    """Ten sessions in ten threads, one server's runtime: each asks a question on the Answers page (built-in
    model, world corpus) and trains its own 2-step LoRA run through the fine-tuning page; the runs queue
    on the one training lane while the others keep asking. Every answer is well formed, every run is done,
    and each session sees only its own run and adapter."""
    corpus, qa = world["corpus"].name, world["qa"]
    start("ten-warm-up", ANSWERS, corpus=corpus)  # models load once, as on a server that is already up
    barrier = threading.Barrier(N_LEARNERS)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(N_LEARNERS) as pool:
        futures = [pool.submit(one_learner, i, corpus, qa, barrier) for i in range(N_LEARNERS)]
    errors = [f.exception() for f in futures if f.exception() is not None]
    first_cause = next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), None)
    if first_cause or errors:
        raise first_cause or errors[0]
    results = [f.result() for f in futures]
    wall = time.perf_counter() - t0
    runs = [r["run"] for r in results]
    assert len(set(runs)) == N_LEARNERS, runs  # ten runs, one per session
    for i, r in enumerate(results):
        assert r["errors"] == [], r["errors"]
        assert len(r["answers"]) == 3, r["answers"]  # base, RAG, long context (no adapter yet)
        assert len(r["verdicts"]) == 3 and all(r["item"].target in v for v in r["verdicts"]), r["verdicts"]
        assert r["job"] is not None and r["job"].state == "done", r["job"]
        assert f"`{r['run']}`** — ✅ done" in r["finetune_text"]
        assert not any(other in r["finetune_text"] for other in runs if other != r["run"])  # no cross-talk
        assert r["adapters"] == [r["run"]], r["adapters"]
        assert r["owned_jobs"] == [r["run"]]
        assert [p.name for p in session_ws(f"learner{i:02d}").path("adapters").iterdir()] == [r["run"]]
    timings = sorted(round(r["trained_s"], 1) for r in results)
    print(f"\n{N_LEARNERS} sessions: wall {wall:.0f} s; answered in {sorted(round(r['answered_s'], 1) for r in results)} s;"
          f" trained by {timings} s")
