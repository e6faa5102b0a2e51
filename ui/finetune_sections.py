"""The fine-tuning page's sections, each a function of its data.

Like ``ui.retrieval_sections``, each section draws its own widgets and charts from the arguments it is given
(the generator, the workspace's adapters folder, the training set, the settings) and keeps its state in
session state; the tables and curves themselves come from ``ui.finetune_views``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from core.runtime import jobs
from core.rag.corpora import QAItem
from core.errors import ConfigError, DatasetError, LabError
from core.finetune import (
    FinetuneConfig, adapter_fits, delete_adapter, export_adapter_zip, list_adapters, parameter_report, read_metrics,
)
from core.finetune.job import submit_training
from core.finetune.data import items_from_rows, read_qa_upload
from core.finetune.forgetting import general_items
from core.finetune.evaluate import greedy_answers
from core.scoring import is_correct
from core.finetune.presets import calibrate
from core.finetune.data import build_data
from core.llm.prompting import build_messages
from core.runtime.limits import job_memory_refusal, limits
from ui.session_resources import adapter_generator, corpus_qa, documents_and_retriever
from ui.finetune_views import (
    GOOD_ENOUGH, curve_figures, fmt, good_enough, no_none, preset_widget_values, probe_table,
    run_progress, runs_table, show_curves, show_estimate, show_latest,
)
from ui.numbers import number_box
from ui.progress import cost_note, timings
from core.questions.bank import training_items
from ui.question_sections import question_bank_section
from ui.state import current_documents

RANKS = [1, 2, 4, 8, 16, 32, 64, 128, 256]
LRS = [1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2]
SOURCES = {"corpus": "The corpus's Q&A set", "upload": "Upload a CSV / JSONL", "table": "Type rows in a table"}
POLL_SECONDS = 2.0  # the live panel's poll: modest, so watching a run costs the training thread little
LIVE_KEYS = ("loss", "eval_loss", "facts_recalled", "open_book_accuracy")
ss = st.session_state
D = FinetuneConfig()


def metrics_memo(run_dir: Path, read) -> tuple[dict, int | None]:
    """A run's metrics.json, re-read only when the file changed (the live panel polls it).

    Returns (metrics, signature); the signature (mtime in ns) keys anything derived from them.
    """
    try:
        sig = (Path(run_dir) / "metrics.json").stat().st_mtime_ns
    except OSError:
        sig = None
    memo = st.session_state.setdefault("_ft_metrics_memo", {})
    hit = memo.get(str(run_dir))
    if hit is None or hit[0] != sig:
        memo.clear()  # one run is watched at a time
        hit = memo[str(run_dir)] = (sig, read(run_dir) or {}, {})
    return hit[1], sig


def figures_memo(run_dir: Path, sig: int | None, metrics: dict, keys: tuple[str, ...]) -> list:
    """The live curves, built once per version of metrics.json rather than on every poll."""
    entry = st.session_state.get("_ft_metrics_memo", {}).get(str(run_dir))
    cache = entry[2] if entry is not None and entry[0] == sig else {}
    if keys not in cache:
        cache[keys] = curve_figures({Path(run_dir).name: metrics}, keys)
    return cache[keys]


def apply_preset(presets: dict, candidates) -> None:
    """Set every setting below to the chosen preset's value (the widgets read them from session state)."""
    ss.update(preset_widget_values(presets[ss["ft_preset"]].config, candidates))


# --- 1. the training set -------------------------------------------------------------

def training_set_section() -> tuple[list[QAItem], list[QAItem] | None, dict]:
    """The Q&A pairs to train on, the corpus's Q&A set, and the data settings (FinetuneConfig keywords)."""
    st.header("1 · Training set")
    source = st.radio("Q&A pairs from", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="ft_source")
    items: list[QAItem] = []
    qa = corpus_qa()
    if source == "corpus":
        if qa:
            items = training_items(qa)  # a question bank's held-out wordings test the adapter, never train it
            if len(items) < len(qa):
                st.caption(f"The question bank made from these documents (edit it on the Documents page): "
                           f"{len(qa) - len(items)} held-out wordings of the question bank are left out of training.")
        else:
            if current_documents():  # the bank needs documents; without any, the rest of the page still shows
                st.info("This corpus has no Q&A set: make one from the documents below, upload one, or type rows in "
                        "a table.")
                docs, retriever = documents_and_retriever()
                question_bank_section(docs, retriever.chunks, prefix="ft")
            else:
                st.info("This corpus has no Q&A set and no documents: upload files on the Documents page (then make "
                        "questions from them), upload a Q&A file, or type rows in a table.")
    elif source == "upload":
        upload = st.file_uploader("Q&A file with `question` and `answer` columns (optional `value`, `paraphrases`)",
                                  type=["csv", "jsonl", "json"], key="ft_upload")
        if upload is not None:
            try:
                items = read_qa_upload(upload.name, upload.getvalue())
            except DatasetError as exc:
                st.error(str(exc))
    else:
        start = pd.DataFrame([{"question": it.question, "answer": it.answer, "value": it.value} for it in (qa or [])[:5]]
                             or [{"question": "", "answer": "", "value": ""}])
        rows = st.data_editor(start, num_rows="dynamic", key="ft_rows", width="stretch")
        try:
            items = items_from_rows(rows.to_dict("records"))
        except DatasetError as exc:
            st.warning(str(exc))

    c1, c2, c3, c4 = st.columns(4)
    data_kind = c1.radio("Train on", ["qa", "text"], key="ft_data",
                         format_func={"qa": "Q&A pairs", "text": "Document text"}.get,
                         help="Document text = continued pretraining on the raw documents (Ovadia et al. 2023's "
                              "'unsupervised' fine-tuning). Facts recalled is still measured on the Q&A questions.")
    n_para = c2.slider("Paraphrases per question", 0, 3, key="ft_paraphrases",
                       help="Augmentation: also train on N rewordings of each question (from the Q&A set).")
    open_mix = c3.slider("Open-book mix", 0.0, 1.0, step=0.05, key="ft_open_book",
                         help="Share of facts also shown WITH their passage among a distractor, so the adapter keeps "
                              "reading context. Without it, closed-book LoRA can forget how to use retrieved passages.")
    val_frac = c4.slider("Validation split", 0.0, 0.5, step=0.05, key="ft_val",
                         help="Facts held out of training: their eval loss shows whether anything generalises.")
    if items:
        st.caption(f"{len(items)} Q&A pairs · {sum(1 for it in items if it.paraphrases)} with paraphrases · "
                   f"e.g. “{items[0].question}” → “{items[0].answer}”")
    return items, qa, dict(data=data_kind, paraphrases=int(n_para), open_book_mix=float(open_mix),
                           val_fraction=float(val_frac))


# --- 2. settings and the parameter calculator -------------------------------------

def settings_section(gen, presets: dict, candidates, items: list[QAItem], data_settings: dict):
    """The LoRA settings and the parameter calculator: (config, report), either None when the settings are invalid."""
    st.header("2 · LoRA settings")
    st.radio("Preset", list(presets), key="ft_preset", on_change=apply_preset, args=(presets, candidates),
             horizontal=True,
             format_func=lambda n: presets[n].label,
             help="Chosen by model size: the built-in model trains live in seconds; a real model (100M+ parameters) "
                  "gets the facts preset (about a minute for 20 facts on a laptop), a quick one, or a thorough one.")
    st.caption(presets[ss["ft_preset"]].why + " Every setting below can still be changed.")
    s1, s2, s3 = st.columns(3)
    start = preset_widget_values(presets[ss["ft_preset"]].config, candidates)  # where an unset box starts
    method = s1.radio("Method", ["lora", "full"], key="ft_method", horizontal=True,
                      format_func={"lora": "LoRA", "full": "Full fine-tune"}.get)
    rank = s1.select_slider("Rank r", RANKS, key="ft_rank", disabled=method == "full")
    alpha = number_box(s1, "Alpha", 1, 1024, f"ft_alpha_{rank}", 2 * rank, whole=False,
                       help="The update is scaled by alpha / r; 2 × r is a common start.")
    targets = s2.multiselect("Target modules", candidates, key="ft_targets", disabled=method == "full",
                             help="Layers that get an adapter, under this architecture's names: attention (q, k, v, o; "
                                  "GPT-2's c_attn) and/or MLP (gate, up, down; GPT-2's c_fc, c_proj; T5's wi, wo).")
    lr = s2.select_slider("Learning rate", LRS, key=f"ft_lr_{method}", format_func=lambda x: f"{x:g}")
    steps = number_box(s3, "Training steps", 1, 2000, "ft_steps", start["ft_steps"],
                       help="Optimiser steps; small sets fit in one batch, so one step = one pass over the data.")
    batch = number_box(s3, "Batch size", 1, 256, "ft_batch", start["ft_batch"])
    eval_every = number_box(s3, "Evaluate every (steps)", 1, 500, "ft_eval_every", start["ft_eval_every"])
    seed = number_box(s3, "Seed", 0, 10_000, "ft_seed", D.seed)
    n_eval = number_box(s2, "Questions per evaluation", 1, 500, "ft_eval_n", start["ft_eval_n"],
                        help="Each evaluation asks this many training questions (and their paraphrases and "
                             "open-book versions) by greedy generation: the slow part on a CPU.")
    with st.expander("Memory and speed"):
        e1, e2, e3, e4 = st.columns(4)
        micro = number_box(e1, "Micro-batch", 0, 256, "ft_micro", start["ft_micro"],
                           help="Examples per forward pass, grouped by length; gradients add up to the batch. "
                                "Memory follows this, not the data set. 0 = the whole batch at once.")
        max_facts = number_box(e2, "Facts to train (0 = all)", 0, 100_000, "ft_max_facts", start["ft_max_facts"])
        stop_at = e3.slider("Stop at facts recalled", 0.0, 1.0, step=0.05, key="ft_stop_at",
                            help="End the run once an evaluation reaches this share (0 = run every step).")
        checkpointing = e4.checkbox("Gradient checkpointing", key="ft_checkpointing",
                                    help="Recompute activations during the backward pass: less memory, ~30% slower.")
        f1, f2, f3 = st.columns(3)
        upper = f1.select_slider("Adapted blocks (from the top)", [0.25, 0.5, 0.75, 1.0], key="ft_upper",
                                 format_func=lambda x: "all" if x == 1 else f"upper {x:.0%}",
                                 help="Adapters only on the upper blocks: the lower ones stay frozen, so the backward "
                                      "pass ends early (faster steps, less memory).")
        loss_on = f2.radio("Loss on", ["answer", "all"], key="ft_loss_on", horizontal=True,
                           help="Learn the answer tokens only (the prompt is given), or the prompt too.")
        bf16 = f3.checkbox("bf16 autocast", key="ft_bf16",
                           help="Training steps in bfloat16 (fast on CPUs with AMX or AVX-512 BF16); evaluations "
                                "stay fp32.")

    config = report = None
    try:
        if None in (alpha, steps, batch, eval_every, seed, n_eval, micro, max_facts):
            raise ConfigError("A number above is not valid (see its message): training waits until it is.")
        config = FinetuneConfig(method=method, rank=int(rank), alpha=float(alpha), target_modules=tuple(targets),
                                learning_rate=float(lr), max_steps=int(steps), batch_size=int(batch), seed=seed,
                                eval_every=int(eval_every), max_eval_questions=int(n_eval), **data_settings,
                                micro_batch_size=int(micro), max_facts=int(max_facts), stop_at_recall=float(stop_at),
                                gradient_checkpointing=bool(checkpointing), upper_layers=float(upper),
                                loss_on=loss_on, bf16=bool(bf16), threads=presets[ss["ft_preset"]].config.threads,
                                max_new_tokens=presets[ss["ft_preset"]].config.max_new_tokens)
        report = parameter_report(gen.model, config)
    except ConfigError as exc:
        st.error(str(exc))
    if report:
        m = st.columns(4)
        m[0].metric("Trainable parameters", f"{report.trainable:,}")
        m[1].metric("Share of the model", f"{report.percent:.3g}%", help=f"of {report.total:,} parameters")
        m[2].metric("Saved weights", f"{report.adapter_mb:.2f} MB", help="float32 safetensors")
        m[3].metric("Optimiser state", f"{report.train_state_mb:.2f} MB", help="gradients + 2 AdamW moments")
        if method == "lora":
            st.caption(f"Computed before training from the layer shapes: r × (in + out) for every {', '.join(targets)} "
                       f"layer. Full fine-tuning would train all {report.total - report.trainable:,}.")
    if report and items:  # time and memory of this run on this machine: one real step, measured
        estimate_key = (gen.name, repr(config), len(items), items[0].question)
        if st.button("⏱ Measure time and memory", key="ft_calibrate",
                     help="Trains one real step and times one small evaluation on a copy of the model."):
            with st.status("Measuring: one training step and a small evaluation on a copy of the model "
                           f"({cost_note('calibrate')})…") as box, timings().measure("calibrate"):
                documents = {d.name: d.text for d in current_documents()}
                try:
                    data = build_data(gen.tokenizer, items, config, documents, seq2seq=gen.is_seq2seq,
                                      style=gen.profile.prompt)
                    ss["ft_estimate"] = (estimate_key, calibrate(gen.model, gen.tokenizer, data, config,
                                                                 general_items(gen.profile.forgetting)))
                    box.update(label="Measured", state="complete")
                except LabError as exc:  # a row over the token limit: say which, train nothing
                    box.update(label="Not measured", state="error")
                    st.error(str(exc))
        measured = ss.get("ft_estimate")
        estimate = measured[1] if measured and measured[0] == estimate_key else None
        show_estimate(estimate)
        ss["ft_memory_refusal"] = job_memory_refusal(estimate.peak_rss_mb) if estimate else None
        if ss["ft_memory_refusal"]:
            st.error(ss["ft_memory_refusal"], icon="🧮")
        st.caption(f"Limits on this server: {limits().example_tokens:,} tokens per training example, "
                   f"{limits().qa_rows:,} Q&A rows, {limits().job_memory_mb:,} MB per training job (docs/limits.md).")
    return config, report


# --- 3. train ------------------------------------------------------------------------

def _start(gen, workspace, adapters_dir, items: list[QAItem], config) -> bool:
    """Queue the run; a row over the server's limits is refused here, by name, before anything is queued."""
    documents = {d.name: d.text for d in current_documents()}
    try:
        build_data(gen.tokenizer, items, config, documents, seq2seq=gen.is_seq2seq,
                   style=gen.profile.prompt)  # milliseconds: tokenising
    except LabError as exc:
        st.error(str(exc))
        return False
    _, run_dir = submit_training(workspace.root, adapters_dir, gen, items, config, documents=documents)
    ss["ft_run"] = run_dir.name
    return True


def _stop(run_path) -> None:
    live = jobs.QUEUE.find(run_path)
    if live is not None:
        jobs.stop(live.id)


def _live_state(run_path, metrics: dict) -> tuple[str, int | None, str]:
    """The run's state: from the job queue while it is queued or training, else from its files."""
    live = jobs.QUEUE.find(run_path)
    if live is not None:
        return live.state, live.position, live.message
    return jobs.status_from_disk(run_path, metrics), None, metrics.get("message", "")


def train_section(gen, workspace, adapters_dir, items: list[QAItem], config, report) -> list:
    """Start a run, and the live panel of the current one; returns the runs in the workspace, newest first."""
    st.header("3 · Train")
    runs = list_adapters(adapters_dir)
    if ss.get("ft_run") and not (adapters_dir / ss["ft_run"]).exists():
        del ss["ft_run"]  # a remembered run that was deleted since
    if "ft_run" not in ss and runs:
        ss["ft_run"] = runs[0].name  # after a refresh: the newest run in this session's workspace

    current = adapters_dir / ss["ft_run"] if ss.get("ft_run") else None
    _job = jobs.QUEUE.find(current) if current is not None else None
    polling = _job is not None and _job.state in jobs.LIVE

    refusal = ss.get("ft_memory_refusal")
    can_start = bool(items) and config is not None and report is not None and not polling and not refusal
    why_not = ("A run of yours is still training: stop it or wait for it to finish." if polling
               else refusal or "Needs Q&A pairs and valid settings.")
    # The return value, not on_click: a callback would run with the previous run's settings.
    if st.button("▶ Start training", key="ft_start", type="primary", disabled=not can_start,
                 help=None if can_start else why_not) and _start(gen, workspace, adapters_dir, items, config):
        current = adapters_dir / ss["ft_run"]
        polling = True

    @st.fragment(run_every=POLL_SECONDS if polling else None)
    def live_panel() -> None:
        if current is None:
            st.info("No run yet in this session. Start one above: it trains in the background, so you can leave "
                    "this page and come back.")
            return
        metrics, sig = metrics_memo(current, read_metrics)  # re-read only when the file changed
        state, position, message = _live_state(current, metrics)
        job = jobs.QUEUE.find(current)
        icon = {"queued": "⏳", "running": "🏃", "done": "✅", "stopped": "⏹️", "failed": "❌", "interrupted": "⚠️"}
        st.markdown(f"**Run `{current.name}`** — {icon.get(state, '')} {state}"
                    + (f" · position {position} in the queue (one run trains at a time)" if position else ""))
        if state == "failed":
            st.error(f"Training failed: {message}")
        if state == "interrupted" and job is not None and job.message:  # its worker died: it can run again
            st.warning(job.message)
            st.button("🔁 Retry", key="ft_retry", on_click=jobs.retry, args=(job.id,))
        elif state == "interrupted":
            st.warning("The app stopped while this run was training; its curves up to then are shown.")
            if jobs.can_retry(current):  # its spec was saved: the run can be rebuilt after a restart
                st.button("🔁 Retry", key="ft_retry", on_click=jobs.retry_run, args=(current,))
        if state == "running":
            measured = ss.get("ft_estimate")  # "Measure" timed one evaluation of this model here
            done, words = run_progress(metrics, job.metrics if job else None, time.time(),
                                       measured[1].seconds_per_eval if measured else None)
            st.progress(done, text=words)
        if state in jobs.LIVE:
            if good_enough(metrics, job.metrics if job else None):
                st.success(f"Facts recalled reached {GOOD_ENOUGH:.0%}: good enough? Stop now and keep what it has "
                           "learned (the adapter is evaluated and saved).")
            st.button("⏹ Stop", key="ft_stop", on_click=_stop, args=(current,))
        if metrics.get("steps") or metrics.get("evals"):
            total = (metrics.get("config") or {}).get("max_steps") or None
            show_latest(metrics, total)
            show_curves({}, LIVE_KEYS, "ft_live", figures=figures_memo(current, sig, metrics, LIVE_KEYS))
        if polling and state not in jobs.LIVE:
            st.rerun(scope="app")  # refresh the runs list, adapters and comparisons once

    live_panel()
    return runs


# --- 4. compare runs ------------------------------------------------------------------

def compare_section(runs: list) -> None:
    st.header("4 · Compare runs")
    finished = [a for a in runs if a.status in ("done", "stopped")]
    if not finished:
        st.caption("Finished runs appear here: try rank 2 / 8 / 32, or with and without paraphrases, and overlay them.")
    else:
        picked = st.multiselect("Runs to overlay", [a.name for a in finished], [a.name for a in finished[:3]], key="ft_compare")
        chosen = [a for a in finished if a.name in picked]
        show_curves({a.name: read_metrics(a.path) or {} for a in chosen},
                    ("loss", "facts_recalled", "eval_loss", "open_book_accuracy", "paraphrase_recalled", "general_recalled"),
                    "ft_cmp")
        st.dataframe(no_none(runs_table(chosen or finished)), hide_index=True, width="stretch")


# --- 5. adapters ----------------------------------------------------------------------

def saved_section(runs: list, gen) -> list:
    """The saved adapters trained on ``gen``'s model, each with Probe, Export and Delete; returns them.

    An adapter is never listed under another base: those trained on other models are counted, not shown."""
    st.header("5 · Saved adapters")
    weighted = [a for a in runs if a.has_weights]
    saved = [a for a in weighted if adapter_fits(a, gen)]
    if not saved:
        st.caption("No saved adapters yet.")
    if len(saved) < len(weighted):
        others = sorted({a.base_model or "another model" for a in weighted if a not in saved})
        st.caption(f"{len(weighted) - len(saved)} adapter(s) trained on {', '.join(others)} are not listed: an "
                   f"adapter only loads on its base model (choose that model on the Model page to use them).")
    for a in saved:
        row = st.columns([4, 1, 1, 1])
        s = a.summary
        row[0].markdown(f"`{a.name}` · {a.config.get('method')} r={a.config.get('rank')} · "
                        f"facts recalled {fmt(s.get('facts_recalled'), pct=True)} · {fmt(s.get('trainable_params'))} params")
        row[1].button("Probe", key=f"ft_use_{a.name}", on_click=lambda n=a.name: ss.update(ft_probe_run=n))
        row[2].download_button("Export", lambda p=a.path: export_adapter_zip(p), f"{a.name}.zip", "application/zip",
                               key=f"ft_export_{a.name}")  # zipped when clicked, not on every rerun
        row[3].button("Delete", key=f"ft_delete_{a.name}", on_click=lambda p=a.path: delete_adapter(p))
    return saved


# --- 6. before vs after ---------------------------------------------------------------

def probe_section(gen, saved: list, items: list[QAItem], qa: list[QAItem] | None) -> None:
    st.header("6 · Before vs after")
    probe = next((a for a in saved if a.name == ss.get("ft_probe_run")), saved[0] if saved else None)
    if probe is None:
        st.caption("Train a run to compare the base model with its adapter on the training questions.")
    else:
        n_probe = st.slider("Probe questions", 1, 10, 4, key="ft_n_probe")
        probe_items = (items or qa or [])[:n_probe]
        st.caption(f"Closed book (no documents), greedy decoding, adapter `{probe.name}` vs the base model.")
        if probe_items and st.button("Ask both models", key="ft_probe"):
            adapted = adapter_generator(probe)
            if adapted is not None:
                messages = [build_messages(it.question, None) for it in probe_items]
                before = greedy_answers(gen.model, gen.tokenizer, messages)
                after = greedy_answers(adapted.model, adapted.tokenizer, messages)
                st.table(probe_table(probe_items, before, after, is_correct).set_index("question"))  # wraps: no sideways scrolling
