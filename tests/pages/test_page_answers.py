"""The Answers page through the entrypoint: one question, five systems, with sources, tokens and verdicts."""

from __future__ import annotations

import json
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from core.rag.corpora import list_corpora
from tests.helpers import ROOT
from tests.helpers import SID, answers_shown, open_answers_page, session_adapters, trained_adapter

PAGE = "pages/6_answers.py"


def test_five_answers_with_sources_and_verdicts(world, generator, model_name):
    shutil.copytree(trained_adapter(generator, world["qa"]), session_adapters() / "ft-reg")
    at = open_answers_page(PAGE, world["corpus"].name, model_name)
    assert at.selectbox(key="ans_adapter").value == "ft-reg"
    question = world["qa"][0].question
    at.selectbox(key="ans_pick").set_value(question).run()
    assert at.text_input(key="ans_question").value == question
    at.slider(key="ans_max_tokens").set_value(24)
    at.button(key="ans_ask").click().run()
    assert not at.exception, [e.value for e in at.exception]

    assert len(answers_shown(at)) == 5
    verdicts = [m.value for m in at.markdown if m.value.startswith(("✅", "❌"))]
    assert len(verdicts) == 5 and all(world["qa"][0].target in v for v in verdicts)
    stats = [c.value for c in at.caption if "prompt +" in c.value and "per 1,000 requests" in c.value]
    assert len(stats) == 5
    assert any("of the corpus fit in the prompt" in c.value for c in at.caption)  # long context says what it read
    labels = [e.label for e in at.expander]
    chunk_labels = [x for x in labels if ".md [" in x and "score" in x]
    assert len(chunk_labels) >= 2 and len(chunk_labels) % 2 == 0  # RAG and LoRA+RAG show the same chunks
    assert any(x.startswith("Training example #") for x in labels), labels  # LoRA: the training rows it learned from
    assert any(m.value.startswith(f"**Q:** {question}") for m in at.markdown)  # … the closest is the question's own
    assert any(m.value.startswith("**What RAG added**") for m in at.markdown)
    assert any(m.value.startswith("**What LoRA changed**") for m in at.markdown)

    rag_source = next(x for x in labels if ".md [" in x)  # "[1] name.md [start:end] · score …"
    assert at.button(key="ans_rag_src1").label == "Show it in its document"  # the source links to its chunk
    doc_name, span = rag_source.split("] ", 1)[1].split(" · ")[0].rsplit(" [", 1)
    start, end = (int(x) for x in span.rstrip("]").split(":"))
    # what the button leaves for the Documents page (then it switches there): that page opens the chunk
    docs = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    docs.session_state["sid"] = SID
    docs.session_state["doc_focus"] = {"document": doc_name, "start": start, "end": end}
    docs.run()
    docs.selectbox(key="corpus").set_value(world["corpus"].name)
    docs.switch_page("pages/1_documents.py")
    docs.run()
    assert not docs.exception, [e.value for e in docs.exception]
    shown = [i.value for i in docs.info if i.value.startswith("The answer's source:")]
    assert shown and f"`{doc_name}`" in shown[0] and f"{start:,}–{end:,}" in shown[0]


@pytest.mark.slow
def test_without_adapter_lora_columns_say_so_and_prose_corpus_warns(world, model_name, english_model):
    prose = next(c for c in list_corpora() if not c.builtin_model_reads)
    at = open_answers_page(PAGE, prose.name, model_name, sid="answersnoadapter")
    assert any("No LoRA adapter trained yet" in i.value for i in at.info)
    if model_name is None:  # the rule: the English model reads prose, and the page says what it can and cannot do
        assert any("SmolLM2-135M-Instruct) reads this corpus" in i.value and "It cannot" in i.value for i in at.info)
    at.text_input(key="ans_question").set_value("How many days of holiday do I get a year?")
    at.slider(key="ans_max_tokens").set_value(12)
    at.button(key="ans_ask").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(answers_shown(at)) == 3  # base, RAG and long context still answer (badly, but for real)
    assert sum("No adapter loaded" in i.value for i in at.info) == 2
    if model_name is None:  # the profile's defaults: sentence focus of 2 (shown under RAG's answer), its copy setting
        from core.llm.profiles import load_profile

        assert at.slider(key="ans_focus_smollm2-135m-instruct").value == 2
        assert at.toggle(key="ans_copy_smollm2-135m-instruct").value is load_profile("smollm2-135m-instruct").copy
        assert [e.label for e in at.expander if e.label.startswith("🔎")] == ["🔎 Sentence focus: the 2 sentence(s) the model read"]
        at.slider(key="ans_focus_smollm2-135m-instruct").set_value(0)
        at.button(key="ans_ask").click().run()
        assert not at.exception and not [e for e in at.expander if e.label.startswith("🔎")]  # off: the whole chunk


def test_confidence_and_attribution_under_the_answers(world, model_name):
    at = open_answers_page(PAGE, world["corpus"].name, model_name, sid="answersinsight")
    item = world["qa"][0]
    at.selectbox(key="ans_pick").set_value(item.question).run()
    at.slider(key="ans_max_tokens").set_value(24)
    at.button(key="ans_ask").click().run()
    at.button(key="ans_insight_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    insight = at.session_state["ans_insight"]
    assert set(insight["systems"]) == {"base", "rag", "long-context"} and insight["value"] == item.target
    coloured = [m.value for m in at.markdown if "title='p = " in m.value]
    assert len(coloured) == 3  # each answer, token by token
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    probs = dict(zip(chart["data"][0]["x"], chart["data"][0]["y"]))
    assert set(probs) == {"base", "rag", "long-context"}
    att = insight["attribution"]
    assert att["texts"] and len(att["passages"]) == len(att["texts"]) and 0 < att["in_context"] <= 1
    if model_name is None:  # the built-in model reads the chunk: RAG is sure of the right value, base is not
        assert probs["rag"] > 0.5 > 0.05 > probs["base"], probs
        assert any("Where RAG's answer came from" in m.value for m in at.markdown)
