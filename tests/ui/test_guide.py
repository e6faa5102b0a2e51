"""The guided path: its words point at real pages and corpora; presets and reset change the session's settings."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from core.rag.chunking import ChunkConfig
from core.rag.corpora import list_corpora
from tests.helpers import ROOT
from ui.navigation import page_file
from ui.guide_content import DEFAULT_CORPUS, GLOSSARY, PRESETS, TOUR

TERMS = ("chunk", "overlap", "embedding", "cosine", "BM25", "RRF", "HNSW", "IVF", "recall@k", "hit@k", "MRR",
         "nDCG", "LoRA rank and alpha", "target modules", "eval loss", "open-book", "faithfulness")


def test_content_points_at_real_pages_and_a_world_corpus():
    corpora = {c.name: c for c in list_corpora()}
    assert corpora[DEFAULT_CORPUS].builtin_model_reads  # the default is one the built-in model can answer from
    for step in TOUR:
        assert (ROOT / page_file(step.page)).is_file()
        assert not step.question or step.answer in step.options  # every prediction has its answer among the options
    for preset in PRESETS:
        assert (ROOT / page_file(preset.page)).is_file() and preset.corpus in corpora
        ChunkConfig(**preset.chunk)  # valid settings
    assert set(TERMS) <= set(GLOSSARY)


def start() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_fresh_session_starts_on_the_world_corpus_with_a_glossary():
    at = start()
    assert at.session_state["corpus"] == DEFAULT_CORPUS
    assert any(e.label == "📖 Glossary" for e in at.sidebar.expander)


@pytest.mark.slow
def test_preset_sets_chunking_and_reset_restores_defaults():
    at = start()
    at.selectbox(key="corpus").set_value("prose_flower_shop").run()
    chunky = next(n for n, p in enumerate(PRESETS) if p.chunk)
    at.button(key=f"preset_{chunky}").click().run()
    assert at.session_state["chunk_config"] == ChunkConfig(**PRESETS[chunky].chunk)
    assert at.session_state["corpus"] == PRESETS[chunky].corpus
    at.switch_page("pages/0_home.py").run()
    at.button(key="preset_reset").click().run()
    assert at.session_state["chunk_config"] == ChunkConfig()
    assert at.session_state["corpus"] == DEFAULT_CORPUS


@pytest.mark.parametrize("step", [0, len(TOUR) - 1])
def test_tour_step_panel_asks_before_it_reveals(step):
    at = start()
    at.session_state["tour_step"] = step
    at.run()
    text = " ".join(m.value for m in at.sidebar.markdown)
    assert f"Tour {step + 1}/{len(TOUR)}" in text and TOUR[step].do in text
    if TOUR[step].question:
        assert TOUR[step].why not in text  # not revealed before a guess
        assert at.sidebar.button(key=f"tour_reveal_{step}").disabled
        at.sidebar.radio(key=f"tour_guess_{step}").set_value(TOUR[step].answer).run()
        at.sidebar.button(key=f"tour_reveal_{step}").click().run()
        assert TOUR[step].why in " ".join(m.value for m in at.sidebar.markdown)


@pytest.mark.slow
def test_refresh_and_restart_bring_back_corpus_settings_and_questions():
    """F5 on ?sid=… is a new Streamlit session (and a restart a new process): the settings come back from disk."""
    from core.runtime.sessions import new_session_id
    from ui.resources import get_workspace

    get_workspace.clear()  # this test's RAGFT_WORKSPACE
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    sid = new_session_id()  # a server restart: same session id (AppTest has no cookie, so it is set directly)
    at.session_state["sid"] = sid
    at.run()
    at.selectbox(key="corpus").set_value("prose_flower_shop").run()
    at.switch_page("pages/1_documents.py").run()
    at.number_input(key="doc_size").set_value(128).run()
    at.switch_page("pages/3_retrieval.py").run()
    at.text_input(key="ret_query").input("How much are roses?").run()
    at.slider(key="ret_nprobe").set_value(3).run()
    for name, started in (("older-run", 1.0), ("newer-run", 2.0)):  # two adapters on disk (never loaded here)
        run = get_workspace().session(sid).path("adapters", name)
        run.mkdir(parents=True)
        (run / "metrics.json").write_text(json.dumps({"status": "done", "started_at": started, "config": {"rank": 8}}))
        for weights in ("adapter_config.json", "adapter_model.safetensors"):
            (run / weights).write_text("{}")
    at.switch_page("pages/6_answers.py").run()
    at.selectbox(key="ans_adapter").set_value("older-run").run()  # not the default (the newest)
    at.switch_page("pages/0_home.py").run()  # the retrieval and answers widgets are off screen now
    assert not at.exception, [e.value for e in at.exception]

    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    again.session_state["sid"] = sid
    again.run()
    assert again.session_state["corpus"] == "prose_flower_shop"
    assert again.session_state["chunk_config"].size == 128
    again.switch_page("pages/3_retrieval.py").run()
    assert not again.exception, [e.value for e in again.exception]
    assert again.text_input(key="ret_query").value == "How much are roses?"
    assert again.slider(key="ret_nprobe").value == 3
    again.switch_page("pages/6_answers.py").run()
    assert again.selectbox(key="ans_adapter").value == "older-run"


@pytest.mark.parametrize("page", ["pages/4_prompt.py", "pages/5_finetune.py", "pages/6_answers.py"])
def test_generating_pages_say_which_model_reads_this_corpus(page, english_model):
    at = start()  # the default 🧪 corpus
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("The built-in tiny LM reads this corpus" in i.value and "% right" in i.value for i in at.info)
    at.selectbox(key="corpus").set_value("prose_flower_shop").run()  # plain English: the English model, and why
    assert not at.exception, [e.value for e in at.exception]
    assert any("SmolLM2-135M-Instruct) reads this corpus" in i.value and "plain English" in i.value
               and "It cannot" in i.value for i in at.info)
    assert not any("real model is needed" in w.value for w in at.warning)


def test_session_report_builds_outside_the_script_run():
    """Streamlit calls a download's data function off the script thread: it must need no session_state."""
    from ui.report_sections import session_report

    at = start()  # the sidebar takes the snapshot on every run without an error
    assert any(b.proto.label == "⬇ Session report (HTML)" for b in at.get("download_button"))
    html = session_report({"corpus": "🧪 arcade", "chunk": ChunkConfig().to_dict(), "index": {"kind": "flat"},
                           "generator": "built-in tiny LM", "embedder": "all-MiniLM-L6-v2", "answers": None,
                           "adapters": ROOT / "no-such-folder", "eval": None}).decode()
    assert "🧪 arcade" in html and "No answers, runs or experiments yet" in html and "None" not in html
