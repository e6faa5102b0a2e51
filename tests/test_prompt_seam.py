"""One prompt seam: the Prompt page's string is, by construction, the string the model receives."""

from __future__ import annotations

import dataclasses

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.answering import Answerer, Decoding
from core.rag.chunking import Chunk
from core.errors import InvalidQuery
from core.llm.generation import encode as model_ids
from core.llm.generation import render_prompt
from core.llm.loading import load_generator
from core.rag.index import Hit
from core.llm.prompting import assemble_prompt, build_messages, encode, fit_chunks, prompt_budget, render
from tests.conftest import ROOT

QUESTION = "Who owns Elmby Blooms?"
CHUNKS = ["Elmby Blooms is owned by Ada Vance, who bought the shop from her aunt and still runs it every day.",
          "Zone A delivery costs $6.50 and arrives the next morning; zone B costs more and takes two days.",
          "The shop opens at 8:30 am on weekdays and at ten on Saturdays; it is closed on Sundays.",
          "Elmby Blooms sells tulips and roses in spring, and wreaths of holly and pine in the winter."]
HITS = [Hit(Chunk("d", "a.md", i, 0, len(t), t, 8), 1.0 - i / 10, i + 1) for i, t in enumerate(CHUNKS)]


def _generator(which: str, tiny_models):
    return load_generator(None if which == "builtin" else str(tiny_models[which]))


@pytest.mark.parametrize("which", ["builtin", "gpt2", "t5"])  # a chat template; none; an encoder-decoder
def test_prompt_page_string_is_what_the_answers_feed_the_model(which, tiny_models):
    gen = _generator(which, tiny_models)
    new = 16
    whole = len(encode(gen.tokenizer, build_messages(QUESTION, CHUNKS), gen.is_seq2seq))
    two = len(encode(gen.tokenizer, build_messages(QUESTION, CHUNKS[:2]), gen.is_seq2seq))
    # a window where everything fits, one where only two chunks fit, and one where not even one fits
    assert two > 64  # so the middle window really is tight
    for window, kept in ((whole + new + 64, 4), (two + new, 2), (new + 64, 1)):
        g = dataclasses.replace(gen, context_window=window)
        given = Answerer(g, retriever=object()).prepare(QUESTION, "rag", Decoding(max_new_tokens=new), hits=HITS)
        page = assemble_prompt(QUESTION, CHUNKS, None, g.tokenizer, g.context_window, new, seq2seq=g.is_seq2seq)
        assert page.text == render_prompt(g, given.messages) == render(g.tokenizer, page.messages)
        assert encode(g.tokenizer, page.messages, g.is_seq2seq) == model_ids(g, given.messages)
        assert page.n_tokens == len(model_ids(g, given.messages))
        assert given.n_dropped == len(page.truncated) == 4 - kept


@pytest.mark.parametrize("system", ["base", "lora", "rag", "long-context"])
def test_every_system_refuses_an_empty_question(system, tiny_models):
    gen = _generator("builtin", tiny_models)
    answerer = Answerer(gen, retriever=object(), adapter=gen, documents=[])
    with pytest.raises(InvalidQuery, match="question is empty"):
        answerer.prepare("   ", system)


@pytest.mark.parametrize("which", ["builtin", "gpt2"])
def test_prompt_page_shows_the_rendered_messages_and_their_token_count(which, tiny_models):
    gen = _generator(which, tiny_models)
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.session_state["generator_name"] = "" if which == "builtin" else str(tiny_models[which])
    at.run()
    at.switch_page("pages/4_prompt.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    question, system = at.text_input(key="pr_question").value, at.text_area(key="pr_system").value
    chunks = [t.value for t in at.text_area if t.key.startswith("pr_chunk_")]
    budget = prompt_budget(at.number_input(key="pr_window").value, at.number_input(key="pr_max_new").value)
    messages = build_messages(question, fit_chunks(gen.tokenizer, question, chunks, budget, system), system)
    assert at.code[0].value.rstrip() == render(gen.tokenizer, messages).rstrip()  # st.code drops the final newline
    shown = int({m.label: m.value for m in at.metric}["Prompt tokens"].replace(",", ""))
    assert shown == len(model_ids(gen, messages))
