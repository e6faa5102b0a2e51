"""The decision guide page, through the entrypoint: answers change the recommendation; costs are charted."""

from __future__ import annotations

import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT


@pytest.fixture(autouse=True)
def _clear_caches():
    st.cache_data.clear()
    yield


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.run()
    app.switch_page("pages/8_decision.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def recommended(at: AppTest) -> str:
    heads = [m.value for m in at.markdown if m.value.startswith("### Recommended: ")]
    assert len(heads) == 1, heads
    return heads[0].removeprefix("### Recommended: ")


def charts(at: AppTest) -> dict[str, dict]:
    """Plotly charts on the page by their key suffix, as plotly JSON."""
    return {el.proto.id: json.loads(el.proto.spec) for el in at.get("plotly_chart")}


def test_default_recommends_rag_with_linked_reasons(at):
    assert at.title[0].value == "🧭 Decision guide"
    assert recommended(at) == "RAG"
    links = {link.proto.page for link in at.page_link}
    assert {"prompt", "experiments"} <= links  # "start simple" and "knowledge changes monthly"
    assert all(link.proto.page_script_hash for link in at.page_link)


def test_answers_change_the_recommendation(at):
    at.select_slider(key="dg_change").set_value("never")
    at.selectbox(key="dg_data").set_value("a handful of documents").run()
    assert recommended(at) == "prompt engineering"

    at.selectbox(key="dg_data").set_value("thousands of documents")
    at.radio(key="dg_style").set_value("strong")
    at.toggle(key="dg_pairs").set_value(True).run()
    assert recommended(at) == "fine-tuning"
    assert any("does not change how the model writes" in m.value for m in at.markdown)

    at.select_slider(key="dg_change").set_value("weekly")
    at.toggle(key="dg_cite").set_value(True).run()
    assert recommended(at) == "RAG + fine-tuning"

    at.radio(key="dg_style").set_value("none").run()
    assert recommended(at) == "RAG"
    assert not at.exception


def test_cost_chart_and_break_even(at):
    specs = list(charts(at).values())
    cost = [s for s in specs if "Cumulative cost" in json.dumps(s.get("layout", {}))]
    assert len(cost) == 1 and [t["name"].split(" (")[0] for t in cost[0]["data"]] == ["RAG", "Fine-tuning", "Long context"]
    assert any(m.value == "not within 2 years" for m in at.metric)  # monthly retraining never pays back
    per_request = {m.label: float(m.value.lstrip("$").replace(",", "")) for m in at.metric if "per request" in m.label}
    assert per_request["Long context, per request"] > per_request["RAG, per request"] > per_request["Fine-tuned, per request"]

    at.select_slider(key="dg_change").set_value("never")
    at.number_input(key="dg_requests").set_value(1_000_000).run()
    assert any(m.value == "month 1" for m in at.metric)
    cost = [s for s in charts(at).values() if "Cumulative cost" in json.dumps(s.get("layout", {}))][0]
    assert any("break-even: month 1" in a.get("text", "") for a in cost["layout"].get("annotations", []))
    assert any("by month 1" in m.value for m in at.markdown)  # the cost reason quotes it too


def test_links_are_short_and_the_recommendation_downloads_as_json(at):
    reasons = [link.proto.label for link in at.page_link if link.proto.label.startswith("Open the ")]
    assert reasons and all(len(label) <= 30 for label in reasons)  # one line in the narrow column: never cut
    from dataclasses import asdict

    from core.decision import Situation, recommend

    assert any(b.proto.label == "⬇ Recommendation (JSON)" for b in at.get("download_button"))
    rec = json.loads(json.dumps({"recommendation": asdict(recommend(Situation()))}))  # what the button serialises
    assert rec["recommendation"]["approach"] == recommended(at)
