"""The Experiments page's tabs, each a function of its data.

Like ``ui.retrieval_sections``, each tab draws its own widgets and charts from the arguments it is given
(the documents, retriever, Q&A set, base model, adapters, decoding) and keeps its results in session state.
"""

from __future__ import annotations

import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.runtime import jobs
from core.answering import Answerer
from core.errors import LabError
from core.evaluation import SystemSpec, evaluate, ovadia_specs, rows_to_csv
from core.scoring import is_correct
from core.experiments import OVADIA_2023, forgetting_check, knowledge_update
from core.finetune import FinetuneConfig
from core.finetune.job import submit_training
from ui.failure_sections import failure_section
from ui.answer_views import FINETUNE_PAGE, answer_html, answer_stats, no_adapter_prompt, render_sources
from ui.session_resources import adapter_generator, make_answerer, pick_adapter
from core.runtime.timings import about, seconds_left
from ui.progress import cost_note, job_progress, progress_bar, timed_work, waiting
from ui.resources import get_embedding_cache, get_reranker
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


def card(title: str, answer, good: str | None = None, bad: str | None = None) -> None:
    st.markdown(f"**{title}**")
    if answer is None:
        st.info("No adapter: train one to see this answer.")
        return
    st.markdown(answer_html(answer.text), unsafe_allow_html=True)
    if good is not None:
        st.markdown("✅ new value" if is_correct(answer.text, good) else
                    ("🕰️ old value" if bad and is_correct(answer.text, bad) else "➖ neither value"))
    st.caption(answer_stats(answer))
    render_sources(answer)  # no links: the edited documents live only in this experiment


# --- knowledge update ----------------------------------------------------------------------

def weight_edit_section(base, qa, docs, item, new_value: str) -> None:
    """A third way to change a fact: a rank-one edit of one MLP layer (ROME-style), beside RAG and LoRA."""
    from core.llm.editing import edit_fact_in_weights, locality_questions
    from ui.insight_views import edit_table, edit_trials_figure

    st.markdown("#### Or write the new fact straight into the weights")
    st.markdown("A **rank-one edit** (ROME, Meng et al. 2022) finds the MLP *key* of the subject "
                f"(“{item.extra.get('entity', '?')}”) and changes one layer's output projection so that this key now "
                "reads out the new value. No documents, no training set: one matrix update on a copy of the model, "
                "then three checks: the question (**reliability**), its paraphrases, never seen by the edit "
                "(**generality**), and questions about other entities, whose answers must not change (**locality**).")
    if not item.extra.get("entity"):
        st.info("This Q&A row names no entity, so there is no subject to edit (the 🧪 world corpora have one).")
        return
    if st.button("Edit the weights (rank-one)", key="exp_rome_run", disabled=not new_value.strip(),
                 help=f"One edit per layer, each measured: {cost_note('weight edit')}."):
        try:
            with progress_bar("weight edit", "Editing each layer in turn", 1) as tick:
                result = edit_fact_in_weights(
                    base, item, new_value, others=locality_questions(qa, item, 8), texts=[d.text for d in docs],
                    on_progress=lambda f, what: tick(round(f * 100), 100, what))
            ss["exp_rome_result"] = result.to_dict()
        except LabError as exc:
            st.error(str(exc))
    r = ss.get("exp_rome_result")
    if r is None or r["question"] != item.question:
        return
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Reliability", f"{r['reliability']:.0%}", help="The edited question gives the new value.")
    m2.metric("Generality", f"{r['generality']:.0%}", help="Paraphrases of the question give the new value.")
    m3.metric("Locality", f"{r['locality']:.0%}", help="Questions about other entities keep their answers.")
    m4.metric("Edited layer", f"{r['layer']} ({r['seconds']:.0f} s)")
    st.dataframe(edit_table(r), hide_index=True, key="exp_rome_table")
    st.plotly_chart(edit_trials_figure(r["trials"]), key="exp_rome_trials")
    st.caption("Each layer was edited on its own copy and measured; the best is kept (ROME's “locate, then edit”). "
               "The shared model is untouched: the edit lives in this experiment only.")


def knowledge_update_tab(docs, retriever, qa, base, adapters, decoding) -> None:
    st.markdown("Change one fact in (a copy of) its document, re-index, and ask again. Retrieval reads the new text "
                "at once; the adapter's weights still hold the old fact until it is **retrained**.")
    facts = [it for it in qa if it.value]
    if not facts:
        st.info("This corpus's Q&A rows have no short `value` to edit.")
    else:
        i = st.selectbox("Fact", range(len(facts)), key="exp_fact",
                         format_func=lambda j: f"{facts[j].question} → {facts[j].value}")
        item = facts[i]
        new_value = st.text_input("New value", key="exp_new_value", placeholder=f"replaces “{item.value}” in {item.document}")
        info = pick_adapter(adapters, "LoRA adapter (trained on the old facts)", "exp_ku_adapter")
        if info is None:
            no_adapter_prompt()
        if st.button("Edit, re-index and ask again", key="exp_ku_run", type="primary"):
            answerer = make_answerer(base, retriever, info, qa)
            try:
                with waiting("knowledge update", "Asking, editing the document, re-indexing, asking again"):
                    ss["exp_ku_result"] = knowledge_update(
                        docs, item, new_value, answerer=answerer, cache=get_embedding_cache(retriever.embedder.cache_key),
                        decoding=decoding, adapter_dir=info.path if info else None)
            except LabError as exc:
                st.error(str(exc))
        r = ss.get("exp_ku_result")
        if r is not None:
            st.markdown(f"**{r.question}** — “{r.old_value}” → “{r.new_value}” in `{r.document}`")
            m1, m2, m3 = st.columns(3)
            m1.metric("Re-index", f"{r.reindex_seconds:.2f} s")
            m2.metric("Chunks re-embedded", f"{r.n_changed_chunks} of {r.n_chunks}",
                      help="Only chunks whose text changed need a new vector; the others come from the embedding cache.")
            m2.caption(f"{r.n_reembedded} embedded just now (an edit made before is already in the cache).")
            m3.metric("Retraining the adapter", f"{r.finetune_seconds:.1f} s" if r.finetune_seconds else "—",
                      help="How long this adapter took to train (its metrics.json); a fact change needs a new run.")
            c1, c2, c3, c4 = st.columns(4)
            with c1:
                card("RAG, before the edit", r.old_answer_rag, r.new_value, r.old_value)
            with c2:
                card("RAG, after the edit", r.new_answer_rag, r.new_value, r.old_value)
            with c3:
                card("LoRA, after the edit", r.lora_answer, r.new_value, r.old_value)
            with c4:
                card("LoRA + RAG, after the edit", r.lora_rag_answer, r.new_value, r.old_value)
            verdicts = [f"RAG {'follows' if r.rag_follows else 'does not follow'} the new fact"]
            if r.lora_stale is not None:
                verdicts.append(f"LoRA {'still gives the old value' if r.lora_stale else 'does not give the old value'}")
            st.success(" · ".join(verdicts) + ". The documents on disk are unchanged: the edit lives in this copy only.")
        weight_edit_section(base, qa, docs, item, new_value)


# --- background work: evaluations and adapter training, all through core.runtime.jobs --------------------

TASK_OPS = {"eval": "batch eval answer", "paper": "document training adapter"}  # what each task's time scales with


def start_task(name: str, fn, lane: str = "eval", items: int = 1) -> None:
    """Queue ``fn(progress, should_stop)`` as this session's job ``name`` (the "eval" lane does not wait for training);
    ``items`` (answers, adapters) scales its measured time into the next run's estimate."""
    label = {"eval": "batch evaluation", "paper": "adapters trained on documents"}.get(name, name)
    job = jobs.task_job(str(session_workspace().root), label, timed_work(TASK_OPS[name], items, fn), lane)
    ss.setdefault("exp_task_ids", {})[name] = jobs.submit(job)
    ss.setdefault("exp_task_items", {})[name] = items


def task_status(name: str):
    """The job behind ``name``, queued, running or finished (None before the first start)."""
    return jobs.status(ss.get("exp_task_ids", {}).get(name) or "")


def running(name: str) -> bool:
    status = task_status(name)
    return status is not None and status.state in jobs.LIVE


def live_jobs() -> dict:
    """Training jobs this page started that are queued or running: kind → JobStatus."""
    out = {}
    for kind in ("qa", "par"):
        status = jobs.status(ss.get(f"exp_job_{kind}") or "")
        if status is not None and status.state in jobs.LIVE:
            out[kind] = status
    return out


def live_tasks() -> dict:
    """Evaluations (and document training) this page started that are queued or running: name → JobStatus."""
    return {name: task_status(name) for name in ss.get("exp_task_ids", {}) if running(name)}


def task_progress(name: str, status) -> None:
    m = status.metrics
    what = "adapters trained on documents" if name == "paper" else "answers"
    if status.state == "queued":
        st.progress(0.0, text=f"Queued (position {status.position}): starts when the one before it ends")
    else:
        job_progress(TASK_OPS[name], f"{'Training' if name == 'paper' else 'Evaluating'} ({what})", m,
                     status.started_at, ss.get("exp_task_items", {}).get(name, 1))


def task_monitor() -> None:
    """Progress bars and stop buttons for this session's running work (its own fragment)."""
    # Poll only while a job of this session is queued or running: an idle page does not rerun every second.
    polling = bool(live_tasks() or live_jobs())

    @st.fragment(run_every=1.0 if polling else None)
    def monitor() -> None:
        """Progress bars and stop buttons for running work; reruns the page when something starts or ends."""
        tasks, training = live_tasks(), live_jobs()
        live = set(tasks) | {f"train_{k}" for k in training}
        if live != ss.get("exp_live", set()):
            ss["exp_live"] = live
            st.rerun(scope="app")
        for name, status in tasks.items():
            task_progress(name, status)
            if st.button("Stop", key=f"exp_stop_{name}"):
                jobs.stop(status.id)
        for kind, status in training.items():
            m = status.metrics
            epochs, elapsed = FinetuneConfig().epochs, time.time() - (status.started_at or time.time())
            left = seconds_left(elapsed, m.get("epoch", 0), epochs)  # the pace so far
            where = f"queued (position {status.position})" if status.state == "queued" else \
                f"step {m.get('step', 0)}, loss {m.get('loss', float('nan')):.3f}, {elapsed:.0f} s so far" + \
                (f", {about(left)} left" if left is not None else "")
            st.progress(0.0 if status.state == "queued" else min(1.0, m.get("epoch", 0) / epochs),
                        text=f"Training {status.label}: {where}")
            if st.button("Stop training", key=f"exp_stop_job_{kind}"):
                jobs.stop(status.id)

    monitor()


# --- batch evaluation -----------------------------------------------------------------------

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
    status = jobs.status(ss.get(f"exp_job_{kind}") or "")
    if status is not None and status.state in jobs.LIVE:
        st.caption("Training in the background (progress below and on the fine-tuning page)…")
        return
    if status is not None and status.state == "failed":
        st.error(f"Training failed: {status.message}")
    if st.button("Train it now with defaults (background)", key=f"exp_train_{kind}"):
        ws = session_workspace()
        label = f"{'ft-par' if paraphrases else 'ft-reg'}-{corpus.name if corpus else 'uploads'}"
        ss[f"exp_job_{kind}"], _ = submit_training(ws.root, ws.path("adapters"), base, qa,
                                                   FinetuneConfig(paraphrases=paraphrases),
                                                   documents={d.name: d.text for d in docs}, label=label)
        st.rerun()


def eval_specs(base, retriever, qa, docs, ad_qa, ad_par) -> list[SystemSpec]:
    """base, RAG, the two Q&A-pair adapters alone and with RAG, and long context (Ovadia et al.'s Table 2 shape)."""
    variants = [("lora", ad_qa), ("lora (paraphrases)", ad_par)]
    answerers = {label: make_answerer(base, retriever, info, qa) for label, info in variants if info is not None}
    plain = Answerer(base, retriever, reranker=get_reranker(ss.get("embedder_name")), documents=docs)  # as on Answers
    specs = ovadia_specs(plain, {label: a for label, a in answerers.items() if a.adapter is not None})
    return specs + [SystemSpec("long-context", "long-context", plain)]


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


def paper_setting_section(base, corpus) -> None:
    """Ovadia et al.'s own setting: LoRA on the documents as plain text, and on rewritten documents."""
    from core.experiments import document_training_sweep
    from ui.insight_views import rewrites_figure

    st.markdown("#### The paper's own fine-tuning setting: the documents, not Q&A pairs")
    st.markdown(
        "The adapters above learn from **question–answer pairs**. Ovadia et al. fine-tuned on the **documents "
        "themselves** (plain text, no questions), and for FT-par on the documents **rewritten several ways**. "
        "Here each run trains a default LoRA adapter on the corpus's documents as text, plus *N* rewrites of each "
        "(the world generator states the same facts with other sentence shapes, order and layout), then asks every "
        "question closed book. If the model learns little from documents alone, that is the finding: knowledge "
        "stored from one phrasing is hard to extract by a question (Allen-Zhu & Li 2023), and varied phrasings help.")
    world_corpus = corpus is not None and corpus.builtin_model_reads
    choices = [0, 1, 2, 3, 5] if world_corpus else [0]
    picked = st.multiselect("Rewrites per document (one adapter each)", choices, default=choices[:3] if world_corpus
                            else [0], key="exp_paper_n")
    if not world_corpus:
        st.caption("Rewrites need a 🧪 world corpus (its Q&A rows name each fact's entity and attribute); "
                   "here only the documents as they are can be trained on.")
    st.caption(f"Each run trains for the default {FinetuneConfig().epochs} epochs; {max(len(picked), 1)} adapter(s): "
               f"{cost_note(TASK_OPS['paper'], max(len(picked), 1))}.")
    if st.button("Train on the documents and ask closed book (background)", key="exp_paper_run",
                 disabled=running("paper") or not picked):
        start_task("paper", document_training_sweep(base, corpus, sorted(picked)), lane="train", items=len(picked))
        st.rerun()
    task = task_status("paper")
    if task is not None and task.state == "failed":
        st.error(f"The document training failed: {task.message}")
    elif task is not None and task.state not in jobs.LIVE and task.result:
        rows = task.result
        st.plotly_chart(rewrites_figure(rows, OVADIA_2023), key="exp_paper_chart")
        st.dataframe(pd.DataFrame(rows).rename(columns={"accuracy": "closed-book accuracy"}), hide_index=True,
                     key="exp_paper_table")


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
                 help=f"About {n_answers} answers: {cost_note(TASK_OPS['eval'], n_answers)}."):
        specs, items = eval_specs(base, retriever, qa, docs, ad_qa, ad_par), qa[:n_questions]
        start_task("eval", lambda progress, stop: evaluate(
            specs, items, paraphrases=n_para, decoding=decoding, embedder=retriever.embedder,
            progress=progress, should_stop=stop), items=n_answers)
        ss["exp_eval_meta"] = {"model": base.name, "corpus": corpus.title if corpus else "uploads",
                               "adapters": [a.name for a in (ad_qa, ad_par) if a]}
        ss["exp_eval_answerers"] = {s.label: (s.system, s.answerer) for s in specs}  # for re-runs with a knob turned
        ss["exp_fail_decoding"] = decoding
        st.rerun()
    task_monitor()
    task = task_status("eval")
    if task is not None and task.state == "failed":
        st.error(f"The evaluation failed: {task.message}")
    elif task is not None and task.state not in jobs.LIVE and task.result is not None:
        result, meta = task.result, ss.get("exp_eval_meta", {})
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
    paper_setting_section(base, corpus)
    p = base.profile
    can = f" It {p.can}." if p.can else ""
    cannot = f" It cannot {p.cannot}." if p.cannot else ""
    st.markdown(
        f"**Reading these numbers.** {p.title[:1].upper() + p.title[1:]} ({base.n_params / 1e6:,.1f}M parameters) is "
        f"not the paper's Mistral-7B and this Q&A set is not its news questions.{can}{cannot} Compare the "
        "**ordering** of the systems with the paper's Table 2, not the values.")


def how_sure_tab(base, retriever, qa, docs, adapters) -> None:
    from core.llm.confidence import value_probabilities
    from ui.insight_views import accuracy_probability_figure

    st.markdown("For each question, the probability each system gives the **right value** (teacher-forced on the "
                "reference answer: one forward pass, no generation). Closed book, the base model spreads its "
                "probability over many plausible values; the retrieved chunk moves it onto the right one.")
    sure_info = pick_adapter(adapters, "LoRA adapter (optional)", "exp_sure_adapter")
    n_sure = st.slider("Questions", 1, len(qa), min(len(qa), 12), key="exp_sure_n")
    if st.button("Measure the probabilities", key="exp_sure_run"):
        answerer = make_answerer(base, retriever, sure_info, qa, documents=docs)
        systems = answerer.available()
        try:
            with progress_bar("value probability", "Scoring", n_sure * len(systems)) as tick:
                ss["exp_sure_rows"] = value_probabilities(answerer, qa[:n_sure], systems, progress=tick)
        except LabError as exc:
            st.error(str(exc))
    sure_rows = ss.get("exp_sure_rows")
    if sure_rows:
        st.plotly_chart(accuracy_probability_figure(sure_rows), key="exp_sure_chart")
        table = pd.DataFrame(sure_rows).groupby("system", sort=False)["prob"].agg(["median", "mean"]).reset_index()
        st.dataframe(table.round(3), hide_index=True, key="exp_sure_table")


def forgetting_tab(base, adapters, decoding) -> None:
    st.markdown("Fine-tuning on new facts can overwrite what a model knew. These general questions are ones the "
                "base model answers before any training (about the Lab's world for the built-in model, everyday "
                "facts for a real model); does the adapter still answer them?")
    fg_info = pick_adapter(adapters, "LoRA adapter", "exp_fg_adapter")
    if fg_info is None:
        no_adapter_prompt()
    elif st.button("Ask the general questions before and after LoRA", key="exp_fg_run"):
        adapter = adapter_generator(fg_info)
        if adapter is not None:
            with waiting("forgetting check", "Asking the general questions with and without the adapter"):
                ss["exp_fg_result"] = {"adapter": fg_info.name,
                                       **forgetting_check(Answerer(base, adapter=adapter), decoding=decoding)}
    fg = ss.get("exp_fg_result")
    if fg:
        m1, m2 = st.columns(2)
        m1.metric("Base model", f"{fg['before']:.0%}")
        m2.metric(f"With {fg['adapter']}", f"{fg['after']:.0%}", delta=f"{(fg['after'] - fg['before']) * 100:+.0f} pts")
        st.dataframe(pd.DataFrame(fg["rows"]), hide_index=True, key="exp_fg_table")
        if fg["before"] < 0.5:
            st.caption("The base model misses most of these before any training, so a drop after LoRA says little "
                       "here: forgetting shows best on questions the base model gets right.")
