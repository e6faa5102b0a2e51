"""The session's take-home report: gathers what this session did (settings, answers, runs, experiments)
into ``core.report`` sections. Called only when the download button is clicked."""

from __future__ import annotations

import streamlit as st

from core.finetune import list_adapters, read_metrics
from core.report import Section, build_report
from ui.answer_views import verdict
from ui.finetune_views import CURVES, curve_figure, runs_table
from ui.sidebar import corpus_label
from ui.state import session_workspace


def _settings_section() -> Section:
    ss = st.session_state
    return Section("Corpus and settings", paragraphs=[f"Corpus: {corpus_label(ss['corpus'])}"], tables=[
        [{"setting": f"chunking: {k}", "value": v} for k, v in ss["chunk_config"].to_dict().items()]
        + [{"setting": f"index: {k}", "value": v} for k, v in ss["index_config"].to_dict().items()]
        + [{"setting": "generator", "value": ss.get("generator_name") or "built-in tiny LM"},
           {"setting": "embedder", "value": ss.get("embedder_name") or "all-MiniLM-L6-v2"}]])


def _answers_section() -> Section | None:
    result = st.session_state.get("ans_result")
    if not result:
        return None
    rows = []
    for system, answer in result["answers"].items():
        sources = "\n".join(f"{s.rank}. {s.document or f'training example #{s.index}'} (score {s.score:.3f}): "
                            f"{' '.join(s.text.split())[:160]}" for s in answer.sources)
        rows.append({"system": system, "answer": answer.text, "verdict": verdict(answer, result["reference"]),
                     "sources": sources, "tokens": f"{answer.prompt_tokens} + {answer.completion_tokens}",
                     "seconds": answer.latency_s})
    return Section("Side-by-side answers", paragraphs=[f"Question: {result['question']}"], tables=[rows])


def _runs_section() -> Section | None:
    runs = [a for a in list_adapters(session_workspace().path("adapters")) if a.status in ("done", "stopped")]
    if not runs:
        return None
    metrics = {a.name: read_metrics(a.path) or {} for a in runs}
    figures = [f for key in CURVES if (f := curve_figure(metrics, key)) is not None]
    return Section("Fine-tuning runs", tables=[runs_table(runs).to_dict("records")], figures=figures)


def _experiments_section() -> Section | None:
    task = st.session_state.get("exp_finished", {}).get("eval")
    if task is None or task.result is None or not task.result.rows:
        return None
    rows = [{"system": name, **{k: v for k, v in numbers.items() if not isinstance(v, (dict, list))}}
            for name, numbers in task.result.systems.items()]
    return Section("Batch evaluation", tables=[rows])


def session_report() -> bytes:
    """The report as UTF-8 HTML bytes (what the sidebar's download button hands the browser)."""
    sections = [_settings_section()] + [s for s in (_answers_section(), _runs_section(), _experiments_section()) if s]
    if len(sections) == 1:
        sections[0].paragraphs.append("No answers, runs or experiments yet in this session.")
    return build_report("RAG ⇄ Fine-Tune Lab: session report", sections).encode("utf-8")
