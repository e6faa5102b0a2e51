"""The class quiz on screen: predict which systems answer each question right, reveal, keep the score.

The score of every revealed round is saved in the session's workspace (``quiz.json``), so the session
report (``ui.report_sections``) shows it after a refresh too.
"""

from __future__ import annotations


import pandas as pd
import streamlit as st

from core.answering import Decoding
from core.errors import LabError
from core.questions.quiz import quiz_questions, quiz_score
from core.runtime.workspace import atomic_write_json, read_json
from core.scoring import is_correct
from ui.numbers import number_box
from ui.progress import progress_bar
from ui.state import session_workspace

LABELS = {"base": "Base (closed book)", "rag": "RAG", "lora": "LoRA (closed book)", "lora+rag": "LoRA + RAG"}
ss = st.session_state


def quiz_file():
    return session_workspace().path("questions", "quiz.json")


def saved_rounds() -> list[dict]:
    """Every revealed round of this session: ``[{"questions", "right", "total", "share", "by_system"}, …]``."""
    path = quiz_file()
    return (read_json(path) or {}).get("rounds", []) if path.exists() else []


def quiz_section(qa, answerer, systems: list[str]) -> None:
    """One round: the questions, a prediction per question, then the reveal and the score."""
    top = st.columns([1, 1, 2])
    n = number_box(top[0], "Questions per round", 1, 10, "quiz_n", 5)
    if n is None:
        return
    if top[1].button("New round", key="quiz_new"):
        ss["quiz_round"] = ss.get("quiz_round", 0) + 1
        ss.pop("quiz_result", None)
    round_no = ss.setdefault("quiz_round", 0)
    held = [i for i, q in enumerate(qa) if q.extra.get("split") == "heldout"]
    picked = quiz_questions(len(qa), n, seed=round_no, prefer=held)
    result = ss.get("quiz_result")
    revealed = result is not None and result["round"] == round_no and result["picked"] == picked
    predicted = {}
    for number, i in enumerate(picked):
        st.markdown(f"**{number + 1}. {qa[i].question}**")
        predicted[i] = st.pills("Which systems will answer it right?", systems, selection_mode="multi",
                                format_func=LABELS.get, key=f"quiz_pred_{round_no}_{i}", disabled=revealed)
        if revealed:
            reveal_table(result["answers"][str(i)], predicted[i] or [], qa[i].target)
    if not revealed:
        if st.button("Reveal the answers", type="primary", key="quiz_reveal"):
            try:
                reveal(qa, answerer, systems, picked, round_no, predicted)
            except LabError as exc:
                st.error(str(exc))
                return
            st.rerun()
        st.caption("Commit to your predictions first: the answers stay hidden until you reveal them.")
        return
    score = result["score"]
    st.metric("Your predictions", f"{score['right']} of {score['total']} right ({score['share']:.0%})")


def reveal(qa, answerer, systems: list[str], picked: list[int], round_no: int, predicted: dict) -> None:
    """Answer the round's questions with every system, score the predictions, save the round."""
    answers: dict[str, dict] = {}
    with progress_bar("answer question", "Asking the systems", items=len(picked) * len(systems)) as tick:
        for n, i in enumerate(picked):
            out = answerer.answer_all(qa[i].question, systems, Decoding())
            answers[str(i)] = {a.system: {"text": a.text, "correct": bool(is_correct(a.text, qa[i].target))} for a in out}
            tick((n + 1) * len(systems), len(picked) * len(systems))
    outcomes = {i: {s: a["correct"] for s, a in answers[str(i)].items()} for i in picked}
    score = quiz_score({i: predicted.get(i) or [] for i in picked}, outcomes)
    ss["quiz_result"] = {"round": round_no, "picked": picked, "answers": answers, "score": score}
    rounds = saved_rounds() + [{"questions": [qa[i].question for i in picked], **score}]
    atomic_write_json(quiz_file(), {"rounds": rounds})


def reveal_table(answers: dict, predicted: list[str], target: str) -> None:
    rows = [{"system": LABELS.get(s, s), "answer": a["text"], "right?": "✅" if a["correct"] else "❌",
             "you said": "right" if s in predicted else "wrong",
             "your call": "✓" if (s in predicted) == a["correct"] else "✗"} for s, a in answers.items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(f"A right answer holds: {target}")


def total_score(rounds: list[dict]) -> dict | None:
    """All rounds together, for the report: ``{"rounds", "right", "total", "share"}``."""
    if not rounds:
        return None
    right, total = sum(r["right"] for r in rounds), sum(r["total"] for r in rounds)
    return {"rounds": len(rounds), "right": right, "total": total, "share": round(right / total, 3) if total else 0.0}


