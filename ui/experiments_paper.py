"""The paper's own fine-tuning setting, under the batch evaluation: LoRA on the documents (and rewrites of
them), then every question closed book. A job on the training lane (on a Ray cluster when one is set), shown
by the job monitor."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.experiments import OVADIA_2023
from core.finetune import FinetuneConfig
from core.runtime import jobs
from ui.job_monitor import running, track, tracked
from ui.progress import cost_note
from ui.state import session_workspace

MEASURE_OP = "document training adapter"  # what the sweep's time scales with (core.runtime.timings)


def paper_setting_section(base, corpus) -> None:
    """Ovadia et al.'s own setting: LoRA on the documents as plain text, and on rewritten documents."""
    from core.experiments import document_training_job
    from ui.insight_views import rewrites_figure

    st.markdown("#### The paper's own fine-tuning setting: the documents, not Q&A pairs")
    st.markdown(
        "The adapters above learn from **question–answer pairs**. Ovadia et al. fine-tuned on the **documents "
        "themselves** (plain text, no questions), and for FT-par on the documents **rewritten several ways**. "
        "Here each run trains a default LoRA adapter on the corpus's documents as text, plus *N* rewrites of each "
        "(the world generator states the same facts with other sentence shapes, order and layout), then asks every "
        "question closed book. If the model learns little from documents alone, that is the finding: knowledge "
        "stored from one phrasing is hard to extract by a question (Allen-Zhu & Li 2023), and varied phrasings help.")
    if corpus is None or corpus.qa_path is None:
        st.info("This setting needs a sample corpus with a Q&A set: pick one in the sidebar (a 🧪 world corpus "
                "also gives the rewrites).", icon="🧪")
        return
    world_corpus = corpus.builtin_model_reads
    choices = [0, 1, 2, 3, 5] if world_corpus else [0]
    picked = st.multiselect("Rewrites per document (one adapter each)", choices, default=choices[:3] if world_corpus
                            else [0], key="exp_paper_n")
    if not world_corpus:
        st.caption("Rewrites need a 🧪 world corpus (its Q&A rows name each fact's entity and attribute); "
                   "here only the documents as they are can be trained on.")
    st.caption(f"Each run trains for the default {FinetuneConfig().epochs} epochs; {max(len(picked), 1)} adapter(s): "
               f"{cost_note(MEASURE_OP, max(len(picked), 1))}.")
    if st.button("Train on the documents and ask closed book (background)", key="exp_paper_run",
                 disabled=running("paper") or not picked):
        job = document_training_job(str(session_workspace().root), base, corpus, sorted(picked),
                                    measure=(MEASURE_OP, len(picked)))
        track("paper", jobs.submit(job))
        st.rerun()
    task = tracked("paper")
    if task is not None and task.state == "failed":
        st.error(f"The document training failed: {task.message}")
    elif task is not None and task.state not in jobs.LIVE and task.result:
        rows = task.result
        st.plotly_chart(rewrites_figure(rows, OVADIA_2023), key="exp_paper_chart")
        st.dataframe(pd.DataFrame(rows).rename(columns={"accuracy": "closed-book accuracy"}), hide_index=True,
                     key="exp_paper_table")
