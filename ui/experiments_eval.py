"""The Experiments page's "Batch evaluation" tab: accuracy of every system over the Q&A set, in the shape of
Ovadia et al. 2023, Table 2, run as a background job (``core.evaluation_job``) shown by the job monitor."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.answering import Answerer
from core.evaluation import EvalResult, SystemSpec, rows_to_csv
from core.evaluation_job import MEASURE_OP, evaluation_systems, load_result, submit_evaluation
from core.experiments import OVADIA_2023
from core.finetune import FinetuneConfig
from core.finetune.job import submit_training
from core.runtime import jobs
from ui.answer_views import FINETUNE_PAGE
from ui.session_resources import make_answerer
from ui.experiments_paper import paper_setting_section
from ui.failure_sections import failure_section
from ui.job_monitor import job_monitor, running, track, tracked
from ui.progress import cost_note
from ui.resources import get_reranker, get_workspace
from ui.state import session_workspace

PAPER_SETTING = {"lora": "LoRA on the documents", "lora (paraphrases)": "LoRA on rewritten documents",
                 "lora+rag": "documents + RAG", "lora (paraphrases)+rag": "rewritten documents + RAG"}
ss = st.session_state
NOT_TRAINED = "(not trained yet)"
# What each of our systems is, and the paper's row it sits beside. The paper's FT-reg/FT-par trained on the
# *documents* (and rewritten documents); ours train on Q&A pairs, so they are named for that.
PUBLISHED_LABELS = {"base": "base", "rag": "RAG", "lora": "Q&A pairs; paper: FT-reg",
                    "lora (paraphrases)": "Q&A + paraphrased questions; paper: FT-par",
                    "lora+rag": "Q&A pairs + RAG; paper: FT-reg + RAG",
                    "lora (paraphrases)+rag": "Q&A + paraphrases + RAG; paper: FT-par + RAG",
                    "long-context": "not in the paper"}


def adapter_slot(adapters, label: str, key: str, with_paraphrases: bool):
    """Pick the adapter for one LoRA variant: by default the newest LoRA run with (or without) paraphrases."""
    by_name = {a.name: a for a in adapters}
    fits = [a.name for a in adapters if a.config.get("method", "lora") == "lora"
            and bool(a.config.get("paraphrases")) == with_paraphrases]
    options = [NOT_TRAINED] + list(by_name)
    name = st.selectbox(label, options, index=options.index(fits[0]) if fits else 0, key=key)
    return by_name.get(name)


def train_button(kind: str, paraphrases: int, base, qa, corpus, docs) -> None:
    """Offer to train the missing adapter with FinetuneConfig defaults, as a background job (see the fine-tuning page)."""
    status = tracked(f"train_{kind}")
    if status is not None and status.state in jobs.LIVE:
        st.caption("Training in the background (progress below and on the fine-tuning page)…")
        return
    if status is not None and status.state == "failed":
        st.error(f"Training failed: {status.message}")
    if st.button("Train it now with defaults (background)", key=f"exp_train_{kind}"):
        ws = session_workspace()
        label = f"{'ft-par' if paraphrases else 'ft-reg'}-{corpus.name if corpus else 'uploads'}"
        job_id, _ = submit_training(ws.root, ws.path("adapters"), base, qa, FinetuneConfig(paraphrases=paraphrases),
                                    documents={d.name: d.text for d in docs}, label=label)
        track(f"train_{kind}", job_id)
        st.rerun()


def eval_systems(base, retriever, qa, docs, ad_qa, ad_par) -> tuple[list[SystemSpec], dict[str, Path]]:
    """The systems to compare (``core.evaluation_job.evaluation_systems``, over this session's cached models)
    and the folders of the adapters that loaded, by label."""
    plain = Answerer(base, retriever, reranker=get_reranker(ss.get("embedder_name")), documents=docs)  # as on Answers
    adapted, folders = {}, {}
    for label, info in (("lora", ad_qa), ("lora (paraphrases)", ad_par)):
        answerer = make_answerer(base, retriever, info, qa) if info is not None else None
        if answerer is not None and answerer.adapter is not None:
            adapted[label], folders[label] = answerer, info.path
    return evaluation_systems(plain, adapted), folders


def results_table(systems: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for label, published in PUBLISHED_LABELS.items():
        s = systems.get(label)
        ovadia = OVADIA_2023.get(label)
        rows.append({"system": f"{label} ({published})", "status": "measured" if s else NOT_TRAINED,
                     "ours: all": s and s["accuracy"],
                     "ours: original": s and s["accuracy_original"], "ours: paraphrased": s and s["accuracy_paraphrase"],
                     f"Ovadia 2023 ({OVADIA_2023['model']})": ovadia,
                     "paper's setting": PAPER_SETTING.get(label, ""),
                     "similarity": s and s["similarity"], "faithfulness": s and s["faithfulness"],
                     "latency s": s and s["latency_s"], "prompt tokens": s and s["prompt_tokens"],
                     "answer tokens": s and s["completion_tokens"], "n": s and s["n"]})
    return pd.DataFrame(rows)


def results_chart(systems: dict[str, dict]) -> go.Figure:
    labels = [label for label in PUBLISHED_LABELS if label in systems]
    names = [f"{label}<br>({PUBLISHED_LABELS[label]})" for label in labels]
    fig = go.Figure()
    fig.add_bar(name="ours: original questions", x=names, y=[systems[x]["accuracy_original"] for x in labels])
    if any(systems[x]["accuracy_paraphrase"] is not None for x in labels):
        fig.add_bar(name="ours: paraphrased questions", x=names, y=[systems[x]["accuracy_paraphrase"] for x in labels])
    fig.add_bar(name=f"Ovadia et al. 2023 ({OVADIA_2023['model']})", x=names,
                y=[OVADIA_2023.get(x) for x in labels], marker_color="#9ca3af")
    fig.update_layout(barmode="group", yaxis=dict(title="accuracy", range=[0, 1]), height=380,
                      margin=dict(t=30, b=10), legend=dict(orientation="h", y=1.12))
    return fig


def batch_evaluation_tab(docs, retriever, qa, base, corpus, adapters, decoding) -> None:
    st.markdown(
        "Accuracy of each system over the corpus's Q&A set, asked as written and as paraphrases the adapters never "
        "trained on. An answer counts as correct when it contains the fact's value. This is the shape of "
        "Ovadia et al. 2023 (*Fine-Tuning or Retrieval?*), Table 2. Our adapters learn from **Q&A pairs** (plain, "
        "or with paraphrased questions too), while the paper's FT-reg and FT-par learned from the **documents** "
        "(and rewritten documents): the paper's own setting is below the table. **Long context** (not in the paper) pastes the "
        "documents into the prompt, in order, until the model's window is full.")
    c1, c2 = st.columns(2)
    n_questions = c1.slider("Questions", 1, len(qa), min(len(qa), 12), key="exp_n")
    n_para = c2.slider("Paraphrases per question", 0, 3, 1, key="exp_para",
                       help="Asked in addition to the original wording (the last paraphrases, which training leaves out).")
    a1, a2 = st.columns(2)
    with a1:
        ad_qa = adapter_slot(adapters, "LoRA on plain Q&A pairs", "exp_ad_qa", False)
        if ad_qa is None:
            train_button("qa", 0, base, qa, corpus, docs)
    with a2:
        ad_par = adapter_slot(adapters, "LoRA on Q&A pairs with paraphrased questions", "exp_ad_par", True)
        if ad_par is None:
            train_button("par", 1, base, qa, corpus, docs)
    if ad_qa is None and ad_par is None:
        st.page_link(FINETUNE_PAGE, label="Or train adapters with your own settings", icon="🎛️")
    n_systems = 3 + 2 * sum(a is not None for a in (ad_qa, ad_par))  # base, RAG, long context + each adapter ±RAG
    n_answers = n_systems * n_questions * (1 + n_para)
    if st.button("Run the batch evaluation", key="exp_eval_run", type="primary", disabled=running("eval"),
                 help=f"About {n_answers} answers: {cost_note(MEASURE_OP, n_answers)}."):
        systems, folders = eval_systems(base, retriever, qa, docs, ad_qa, ad_par)
        ws = session_workspace()
        job_id, _ = submit_evaluation(ws.root, ws.path("runs"), systems, qa[:n_questions], documents=docs,
                                      adapters=folders, paraphrases=n_para, decoding=decoding,
                                      workspace=get_workspace().root)
        track("eval", job_id)
        ss["exp_eval_meta"] = {"model": base.name, "corpus": corpus.title if corpus else "uploads",
                               "adapters": [a.name for a in (ad_qa, ad_par) if a]}
        ss["exp_eval_answerers"] = {s.label: (s.system, s.answerer) for s in systems}  # re-runs with a knob turned
        ss["exp_fail_decoding"] = decoding
        st.rerun()
    job_monitor()
    evaluation_results(qa, docs)
    paper_setting_section(base, corpus)
    p = base.profile
    can = f" It {p.can}." if p.can else ""
    cannot = f" It cannot {p.cannot}." if p.cannot else ""
    st.markdown(
        f"**Reading these numbers.** {p.title[:1].upper() + p.title[1:]} ({base.n_params / 1e6:,.1f}M parameters) is "
        f"not the paper's Mistral-7B and this Q&A set is not its news questions.{can}{cannot} Compare the "
        "**ordering** of the systems with the paper's Table 2, not the values.")


def evaluation_results(qa, docs) -> None:
    """The last evaluation's table, chart and rows, read from its job (or the result.json it wrote)."""
    task = tracked("eval")
    if task is not None and task.state == "failed":
        st.error(f"The evaluation failed: {task.message}")
    elif task is not None and task.state == "interrupted":
        st.warning(task.message or "The evaluation was interrupted.")
        st.button("🔁 Retry", key="exp_eval_retry", on_click=lambda: track("eval", jobs.retry(task.id) or task.id))
    elif task is not None and task.state not in jobs.LIVE:
        result = task.result if isinstance(task.result, EvalResult) else (  # stopped before a worker took it: none
            load_result(task.run_dir) if task.run_dir else None)
        meta = ss.get("exp_eval_meta", {})
        if result is None:
            return
        if task.state == "stopped":
            st.warning(f"Stopped early: these numbers cover the first {len(result.rows)} answers only.")
        st.caption(f"{meta.get('corpus')} · model `{meta.get('model')}` · adapters: "
                   f"{', '.join(meta.get('adapters') or []) or 'none (LoRA rows not trained yet)'}")
        if not result.rows:
            st.info("No answer was finished before the stop: run the evaluation again to see numbers.")
        else:
            st.plotly_chart(results_chart(result.systems), key="exp_eval_chart")
            st.dataframe(results_table(result.systems), hide_index=True, key="exp_eval_table")
            st.download_button("Download per-question rows (CSV)", rows_to_csv(result.rows), "batch_eval.csv",
                               mime="text/csv", key="exp_eval_csv")
            with st.expander("Per-question answers"):
                st.dataframe(pd.DataFrame(result.rows).drop(columns=["sources", "retrieved", "in_prompt"],
                                                            errors="ignore"), hide_index=True)
            failure_section(result, qa, docs, ss.get("exp_eval_answerers", {}))
