"""Every generating page with each real architecture: Llama (ChatML), Qwen2, GPT-2 (no template), T5 (seq2seq).

The models are the session's tiny random-weight folders (``tests/tiny_models.py``):
their answers are noise, but each page must run, show the exact prompt with its real
token count, answer with all four systems and size, measure and train an adapter.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest


from core.rag.corpora import get_corpus, load_qa
from core.finetune import train
from core.finetune.data import build_data
from core.finetune.presets import presets_for
from core.llm.loading import load_generator
from core.llm.prompting import assemble_prompt
from tests.tiny_models import ARCHS
from tests.helpers import answers_shown, open_answers_page

SID = "realmodels"
CORPUS = "prose_flower_shop"


@pytest.fixture(autouse=True)
def _fresh_resources():
    import streamlit as st

    from ui.resources import get_workspace

    get_workspace.clear()
    st.cache_resource.clear()
    yield


def open_page(page: str, model: str) -> AppTest:
    return open_answers_page(page, CORPUS, model, SID)


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_prompt_page_shows_what_the_model_reads(tiny_models, arch):
    at = open_page("pages/4_prompt.py", str(tiny_models[arch]))
    shown = at.code[0].value
    gen = load_generator(str(tiny_models[arch]))
    assert ("<|im_start|>" in shown) == (arch in ("llama", "qwen2"))
    if arch in ("gpt2", "t5"):  # the documented plain format
        assert shown.startswith("System: ") and shown.endswith("\nAssistant:")
    question = at.text_input(key="pr_question").value
    contexts = [line for line in shown.split("\n") if line.startswith("[")]
    assert contexts  # retrieved chunks are in the prompt
    expected = assemble_prompt(question, None, None, gen.tokenizer, gen.context_window, 48, seq2seq=gen.is_seq2seq)
    assert int(metric(at, "Prompt tokens").replace(",", "")) > expected.n_tokens


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_answers_page_five_systems(tiny_models, arch):
    gen = load_generator(str(tiny_models[arch]))
    qa = load_qa(get_corpus(CORPUS).qa_path)[:3]
    config = dataclasses.replace(presets_for(gen.model, False)[0].config, max_steps=1, eval_every=1)
    out = Path(os.environ["RAGFT_WORKSPACE"]) / "sessions" / SID / "adapters" / f"ft-{arch}"
    train(gen.model, gen.tokenizer, build_data(gen.tokenizer, qa, config, seq2seq=gen.is_seq2seq), config, out,
          base_name=gen.name)
    at = open_page("pages/6_answers.py", str(tiny_models[arch]))
    at.text_input(key="ans_question").set_value(qa[0].question)
    at.slider(key="ans_max_tokens").set_value(8)
    at.button(key="ans_ask").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert [h.value for h in at.subheader][:5] == ["Base", "RAG", "LoRA", "LoRA + RAG", "Long context"]
    assert len(answers_shown(at)) == 5  # every system answered (noise, from random weights, but generated)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_finetune_page_preset_measure_and_train(tiny_models, arch):
    from core.runtime import jobs

    at = open_page("pages/5_finetune.py", str(tiny_models[arch]))
    gen = load_generator(str(tiny_models[arch]))
    assert at.radio(key="ft_preset").value == ("quick" if gen.is_seq2seq else "facts")
    assert at.multiselect(key="ft_targets").value == list(presets_for(gen.model, False)[0].config.target_modules)
    at.number_input(key="ft_steps").set_value(2)
    at.number_input(key="ft_eval_every").set_value(1)
    at.number_input(key="ft_eval_n").set_value(2)
    at.button(key="ft_calibrate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert float(metric(at, "Peak memory (measured)").split()[0]) > 0.1
    assert metric(at, "Projected run")
    at.button(key="ft_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    job = next(s for s in jobs.jobs() if s.run_dir is not None and s.run_dir.name == at.session_state["ft_run"])
    assert jobs.QUEUE.wait(job.id, 400).state == "done"


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("page", ["pages/7_experiments.py", "pages/9_model.py"])
def test_other_generating_pages_open(tiny_models, arch, page):
    at = open_page(page, str(tiny_models[arch]))
    assert not at.error, [e.value for e in at.error]
