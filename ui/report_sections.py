"""The session's take-home report: what this session did (settings, answers, runs, experiments) as
``core.report`` sections.

Streamlit builds a download's data lazily, outside the script run, where ``st.session_state`` cannot be
read: so ``report_snapshot`` copies what the report needs while the page runs (cheap references), and
``session_report`` builds the HTML from that snapshot only when the button is clicked.
"""

from __future__ import annotations

import streamlit as st

from ui.state import session_workspace


def report_snapshot(corpus_title: str) -> dict:
    """What the report shows, read from the session now (no heavy imports: this runs on every page)."""
    from core.runtime import jobs

    ss = st.session_state
    task = jobs.status(ss.get("exp_task_ids", {}).get("eval") or "")  # the last batch evaluation's job
    return {"corpus": corpus_title, "chunk": ss["chunk_config"].to_dict(), "index": ss["index_config"].to_dict(),
            "generator": ss.get("generator_name") or "built-in (tiny LM for 🧪 world corpora, English reader for prose)",
            "embedder": ss.get("embedder_name") or "all-MiniLM-L6-v2", "answers": ss.get("ans_result"),
            "adapters": session_workspace().path("adapters"),
            "eval": task.result if task is not None and task.state not in jobs.LIVE and hasattr(task.result, "systems")
            else None, "quiz": session_workspace().path("questions", "quiz.json")}


def refresh_snapshot() -> None:
    """Called by app.py after the page ran: the answers or results the page just made join the report
    (the sidebar took its snapshot before the page ran; the download button holds that same dict)."""
    snap = st.session_state.get("_report_snapshot")
    if snap is not None:
        snap.update(report_snapshot(snap["corpus"]))


def _settings_section(snap: dict):
    from core.report import Section

    rows = ([{"setting": f"chunking: {k}", "value": v} for k, v in snap["chunk"].items()]
            + [{"setting": f"index: {k}", "value": v} for k, v in snap["index"].items()]
            + [{"setting": "generator", "value": snap["generator"]}, {"setting": "embedder", "value": snap["embedder"]}])
    return Section("Corpus and settings", paragraphs=[f"Corpus: {snap['corpus']}"], tables=[rows])


def _answers_section(result: dict | None):
    from core.report import Section
    from ui.answer_views import verdict

    if not result:
        return None
    rows, failures = [], result.get("failures") or {}
    for system, answer in result["answers"].items():
        sources = "\n".join(f"{s.rank}. {s.document or f'training example #{s.index}'} (score {s.score:.3f}): "
                            f"{' '.join(s.text.split())[:160]}" for s in answer.sources)
        why = failures.get(system) or {}
        rows.append({"system": system, "answer": answer.text, "verdict": verdict(answer, result["reference"]),
                     "why it failed": f"{why['failure']}: {why['detail']}" if why.get("failure", "none") != "none" else "",
                     "sources": sources, "tokens": f"{answer.prompt_tokens} + {answer.completion_tokens}",
                     "seconds": answer.latency_s})
    return Section("Side-by-side answers", paragraphs=[f"Question: {result['question']}"], tables=[rows])


def _runs_section(adapters_dir):
    from core.finetune import list_adapters, read_metrics
    from core.report import Section
    from ui.finetune_views import CURVES, curve_figure, runs_table

    runs = [a for a in list_adapters(adapters_dir) if a.status in ("done", "stopped")]
    if not runs:
        return None
    metrics = {a.name: read_metrics(a.path) or {} for a in runs}
    figures = [f for key in CURVES if (f := curve_figure(metrics, key)) is not None]
    return Section("Fine-tuning runs", tables=[runs_table(runs).to_dict("records")], figures=figures)


def _experiments_section(result):
    from core.report import Section

    if result is None or not result.rows:
        return None
    rows = [{"system": name, **{k: v for k, v in numbers.items() if not isinstance(v, (dict, list))}}
            for name, numbers in result.systems.items()]
    counts = [{"system": name, **numbers["failures"]} for name, numbers in result.systems.items() if "failures" in numbers]
    wrong = [{"question": r["question"], "system": r["system"], "answer": r["answer"], "why it failed": r["failure"],
              "detail": r["detail"]} for r in result.rows if r.get("failure", "none") != "none"]
    return Section("Batch evaluation", paragraphs=["Why the wrong answers failed: one label per answer, by rules "
                                                   "(docs/failures.md), counted per system, then each wrong answer."]
                   if counts else [], tables=[rows] + ([counts, wrong] if counts else []))


def _quiz_section(path):
    """The class quiz: every revealed round's predictions score (read from the workspace when the report is built)."""
    from core.report import Section
    from core.runtime.workspace import read_json

    rounds = (read_json(path) or {}).get("rounds", []) if path is not None and path.exists() else []
    if not rounds:
        return None
    right, total = sum(r["right"] for r in rounds), sum(r["total"] for r in rounds)
    rows = [{"round": n, "questions": len(r["questions"]), "predictions right": f"{r['right']} of {r['total']}",
             "share": r["share"]} for n, r in enumerate(rounds, start=1)]
    return Section("Class quiz", paragraphs=[f"Quiz score: {right} of {total} predictions right "
                                             f"({right / total:.0%}) over {len(rounds)} round(s)."], tables=[rows])


def session_report(snap: dict) -> bytes:
    """The report as UTF-8 HTML bytes (what the sidebar's download button hands the browser)."""
    from core.report import build_report

    sections = [_settings_section(snap)] + [s for s in (_answers_section(snap["answers"]), _runs_section(snap["adapters"]),
                                                        _experiments_section(snap["eval"]),
                                                        _quiz_section(snap.get("quiz"))) if s]
    if len(sections) == 1:
        sections[0].paragraphs.append("No answers, runs or experiments yet in this session.")
    return build_report("RAG ⇄ Fine-Tune Lab: session report", sections).encode("utf-8")
