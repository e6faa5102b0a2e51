"""The prompt assembly page through the entrypoint, and the token accounting behind it."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.llm.prompting import assemble_prompt, build_messages, render, request_cost
from tests.helpers import ROOT
from tests.helpers import tiny_model_dir, tiny_tokenizer

CHUNKS = ["Elmby Blooms is owned by Ada Vance.", "Zone A delivery costs $6.50.", "The shop opens at 8am."]


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


def test_parts_add_up_to_the_final_string(tok):
    p = assemble_prompt("Who owns Elmby Blooms?", CHUNKS, None, tok, 1024, 48)
    assert p.text == render(tok, build_messages("Who owns Elmby Blooms?", CHUNKS))
    assert p.n_tokens == len(tok(p.text, add_special_tokens=False)["input_ids"])
    assert sum(part.n_tokens for part in p.parts) == p.n_tokens
    assert [part.label for part in p.parts] == ["system", "chunk 1", "chunk 2", "chunk 3", "question", "template"]
    assert p.truncated == []


LONG = [" ".join([c] * 4) for c in CHUNKS]  # long enough that two chunks exceed the smallest budget (64 tokens)


@pytest.mark.parametrize("drop, expected", [(0, []), (1, ["chunk 3"]), (2, ["chunk 3", "chunk 2"])])
def test_over_budget_drops_the_last_chunks(tok, drop, expected):
    full = assemble_prompt("Who owns Elmby Blooms?", LONG, None, tok, 4096, 0)
    fitted = assemble_prompt("Who owns Elmby Blooms?", LONG[: 3 - drop], None, tok, 4096, 0)
    p = assemble_prompt("Who owns Elmby Blooms?", LONG, None, tok, fitted.n_tokens + 10, 10)
    assert p.truncated == expected and p.n_tokens <= p.budget and not p.over_budget
    assert full.n_tokens >= p.n_tokens


def test_one_chunk_is_kept_and_a_prompt_still_too_long_is_flagged(tok):
    """The answers' rule: a RAG prompt keeps its best chunk; if even that does not fit, the model refuses it."""
    p = assemble_prompt("Who owns it? " * 40, LONG, None, tok, 80, 10)
    assert p.truncated == ["chunk 3", "chunk 2"] and [x.label for x in p.parts][1:3] == ["chunk 1", "question"]
    assert p.over_budget and p.n_tokens > p.budget


def test_request_cost():
    assert request_cost(1000, 500, 0.5, 1.5) == pytest.approx(0.5 + 0.75)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model_dir(tmp_path_factory.mktemp("tiny-lm-prompt"))


def test_prompt_page_shows_the_final_string_and_token_counts(model_dir):
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["generator_name"] = str(model_dir)
    at.run()
    at.switch_page("pages/4_prompt.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    question = at.text_input(key="pr_question").value
    final = at.code[0].value
    assert question and question in final
    chunk_boxes = [t for t in at.text_area if t.key.startswith("pr_chunk_")]
    assert chunk_boxes and chunk_boxes[0].value.split()[0] in final
    labels = {m.label: m.value for m in at.metric}
    assert int(labels["Prompt tokens"].replace(",", "")) > 0
    assert any("chunk 1" in str(df.value["part"].tolist()) for df in at.dataframe)
    costs = next(df.value for df in at.dataframe if "prompt" in df.value.columns)
    tokens = dict(zip([p.split(":")[0].split(" (")[0] for p in costs["prompt"]], costs["input tokens"]))
    assert tokens["Long context"] > tokens["RAG prompt"] > tokens["No retrieval"]  # the whole corpus costs most
    at.number_input(key="pr_window").set_value(120).run()
    assert any("Over budget" in w.value for w in at.warning)


def test_budget_labels_sit_on_opposite_sides(model_dir):
    """The prompt budget and the context window are a few tokens apart: their labels must not overlap."""
    import json

    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["generator_name"] = str(model_dir)
    at.run()
    at.switch_page("pages/4_prompt.py").run()
    fig = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "prompt budget" in c.proto.spec)
    notes = {a["text"].split(" ")[0]: a for a in fig["layout"]["annotations"]}
    budget, window = notes["prompt"], notes["context"]
    assert budget["yanchor"] != window["yanchor"] and budget["xanchor"] != window["xanchor"]
