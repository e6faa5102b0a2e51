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
from tests.helpers import ROOT

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
        assert page.text == render_prompt(g, given.plan.messages) == render(g.tokenizer, page.messages)
        assert encode(g.tokenizer, page.messages, g.is_seq2seq) == model_ids(g, given.plan.messages) == given.plan.ids
        assert page.n_tokens == len(model_ids(g, given.plan.messages))
        assert given.plan.n_dropped == len(page.truncated) == 4 - kept


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


def _styled_model(tiny_models, tmp_path) -> str:
    """The tiny Llama with the English model's profile: passages in the user turn, "… Answer briefly."."""
    import shutil

    from core.llm.profiles import load_profile, save_profile

    folder = tmp_path / "styled"
    shutil.copytree(tiny_models["llama"], folder)
    save_profile(dataclasses.replace(load_profile("smollm2-135m-instruct"), name="styled", origin="local"), folder)
    return str(folder)


@pytest.mark.parametrize("which", ["builtin", "lab-english-reader", "gpt2", "styled"])
def test_confidence_scores_the_token_ids_the_answer_was_generated_from(which, tiny_models, embedder, tmp_path):
    """The answer keeps its prompt plan: generation reads ``plan.ids``, and the confidence panel scores
    the answer after exactly those ids, not a prompt rebuilt from whole chunks (which sentence focus cut)."""
    from types import SimpleNamespace

    from core.llm.confidence import answer_confidence, answers_insight

    # the world model; the reader (sentence focus); no chat template; a profile's own prompt layout
    names = {"builtin": None, "gpt2": str(tiny_models["gpt2"]), "styled": _styled_model(tiny_models, tmp_path)}
    gen = load_generator(names.get(which, which), cache=False)
    seen: list[list[int]] = []
    hook = gen.model.register_forward_pre_hook(
        lambda _m, _args, kwargs: seen.append(kwargs["input_ids"][0].tolist()) if "input_ids" in kwargs else None,
        with_kwargs=True)
    try:
        answerer = Answerer(gen, retriever=SimpleNamespace(embedder=embedder), focus=1)
        answer = answerer.answer(QUESTION, "rag", Decoding(max_new_tokens=8), hits=HITS)
        generated_from = seen[0]
        assert generated_from == answer.plan.ids
        assert answer.plan.passages == [answer.focus[0]] and answer.focus[0] in CHUNKS[0]  # one focused sentence
        assert CHUNKS[1] not in answer.plan.text
        if which == "styled":
            assert answer.plan.messages[-1]["content"].endswith("Answer briefly.")
        seen.clear()
        conf = answer_confidence(answerer, QUESTION, answer, value="Ada Vance", reference_answer=CHUNKS[0])
        n = len(answer.plan.ids)
        assert conf["reference"]["found"] and seen  # its own answer (when not empty), then the reference
        assert all(scored[:n] == generated_from for scored in seen)  # every pass reads the answer's own prompt
        assert len(seen[-1]) - n == len(gen.tokenizer(CHUNKS[0], add_special_tokens=False)["input_ids"])
        if answer.text:  # attribution reads the same prompt (it checks the ids itself)
            insight = answers_insight(answerer, QUESTION, {"rag": answer})
            assert insight["attribution"]["texts"] == answer.plan.passages
    finally:
        hook.remove()


@pytest.mark.parametrize("which", ["builtin", "styled"])
def test_training_examples_are_the_prompts_the_answers_are_generated_from(which, tiny_models, tmp_path):
    """A fine-tuning example's prompt is the plan's prompt: closed-book for LoRA, and an open-book example in the
    model's own layout (the styled profile puts passages in the user turn), so LoRA + RAG reads what it learned."""
    from core.finetune.data import qa_example
    from core.llm.plan import plan_prompt

    gen = load_generator(None if which == "builtin" else _styled_model(tiny_models, tmp_path), cache=False)
    style = gen.profile.prompt
    closed = qa_example(gen.tokenizer, QUESTION, "Ada Vance.", style=style)
    plan = plan_prompt(gen, QUESTION)
    assert closed.input_ids[:len(plan.ids)] == plan.ids and closed.labels[len(plan.ids) - 1] == -100
    open_book = qa_example(gen.tokenizer, QUESTION, "Ada Vance.", CHUNKS[:2], kind="open_book", style=style)
    plan = plan_prompt(gen, QUESTION, CHUNKS[:2])
    assert plan.passages == CHUNKS[:2] and open_book.input_ids[:len(plan.ids)] == plan.ids
    assert open_book.labels[len(plan.ids)] != -100  # the answer starts right after the plan's prompt

    from core.finetune import FinetuneConfig
    from core.finetune.data import build_data
    from core.rag.corpora import QAItem

    item = QAItem(QUESTION, "Ada Vance owns it.", "Ada Vance", supporting_text=CHUNKS[0])
    data = build_data(gen.tokenizer, [item], FinetuneConfig(open_book_mix=1.0, val_fraction=0.0),
                      {"a.md": " ".join(CHUNKS)}, style=style)
    opened = next(e for e in data.train if e.kind == "open_book")
    plan = plan_prompt(gen, QUESTION, data.passages[QUESTION])
    assert data.style == style and opened.input_ids[:len(plan.ids)] == plan.ids  # what training scores reads too
