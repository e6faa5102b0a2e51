"""Rendering pieces of the fine-tuning page: curves from metrics.json, run tables, the live panel.

Every number drawn here is read from a run's ``metrics.json`` (written by
``core.finetune.train`` as it trains); nothing is interpolated or simulated.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.finetune import AdapterInfo
from core.finetune.job import training_counts
from core.runtime.jobs import progress_of

CURVES = {  # key in metrics.json → (title, where it lives, y axis)
    "loss": ("Train loss", "steps", "loss (answer tokens)"),
    "eval_loss": ("Eval loss (held-out facts)", "evals", "loss"),
    "facts_recalled": ("Facts recalled (closed book)", "evals", "accuracy"),
    "open_book_accuracy": ("Open-book accuracy (LoRA + passage)", "evals", "accuracy"),
    "paraphrase_recalled": ("Recall on unseen paraphrases", "evals", "accuracy"),
    "general_recalled": ("General questions (forgetting check)", "evals", "accuracy"),
}


def series(metrics: dict, key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one curve; rows where the value is missing are skipped."""
    rows = metrics.get(CURVES[key][1]) or []
    pts = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
    return [p[0] for p in pts], [p[1] for p in pts]


def curve_figure(runs: dict[str, dict], key: str, height: int = 260) -> go.Figure | None:
    """One chart of ``key`` vs step with a line per run; None when no run has that curve."""
    title, _, y_title = CURVES[key]
    fig = go.Figure()
    for name, metrics in runs.items():
        x, y = series(metrics, key)
        if x:
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=name, marker={"size": 5}))
    if not fig.data:
        return None
    fig.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis_title="step", yaxis_title=y_title, legend={"orientation": "h", "y": -0.25})
    if y_title == "accuracy":
        fig.update_yaxes(range=[-0.02, 1.02], tickformat=".0%")
    return fig


def show_curves(runs: dict[str, dict], keys: tuple[str, ...], key_prefix: str,
                figures: list | None = None) -> None:
    """Curves two per row; ``figures`` (from ``curve_figures``) skips rebuilding them."""
    figures = curve_figures(runs, keys) if figures is None else figures
    cols = st.columns(2)
    for shown, (key, fig) in enumerate(figures):
        cols[shown % 2].plotly_chart(fig, width="stretch", key=f"{key_prefix}_{key}")


def curve_figures(runs: dict[str, dict], keys: tuple[str, ...]) -> list[tuple[str, go.Figure]]:
    return [(key, fig) for key in keys if (fig := curve_figure(runs, key)) is not None]


def fmt(value, pct: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:.0%}" if pct else (f"{value:,.3f}" if isinstance(value, float) else f"{value:,}")


def runs_table(adapters: list[AdapterInfo]) -> pd.DataFrame:
    rows = []
    for a in adapters:
        c, s = a.config, a.summary
        rows.append({
            "run": a.name, "status": a.status, "method": c.get("method"), "rank": c.get("rank"),
            "targets": ",".join(t.replace("_proj", "") for t in c.get("target_modules", [])),
            "data": c.get("data"), "paraphrases": c.get("paraphrases"), "open-book mix": c.get("open_book_mix"),
            "trainable params": s.get("trainable_params"), "steps": s.get("steps"),
            "s/step": s.get("seconds_per_step"), "train s": s.get("train_seconds"),
            "s to 80%": s.get("seconds_to_80"), "facts recalled": s.get("facts_recalled"),
            "open-book acc.": s.get("open_book_accuracy"), "final train loss": s.get("final_train_loss"),
        })
    return pd.DataFrame(rows)


def no_none(df: pd.DataFrame) -> pd.DataFrame:
    """A table for the screen: a missing value shows as "–", never as a raw None or NaN."""
    return df.astype(object).where(df.notna(), "–")


def latest_numbers(metrics: dict) -> dict:
    """The newest step row and eval row of a run, merged (what the live panel shows)."""
    steps, evals = metrics.get("steps") or [], metrics.get("evals") or []
    out = dict(steps[-1]) if steps else {}
    if evals:
        out.update({k: v for k, v in evals[-1].items() if k != "step"}, eval_step=evals[-1]["step"])
    return out


def show_latest(metrics: dict, total_steps: int | None) -> None:
    now = latest_numbers(metrics)
    c = st.columns(5)
    c[0].metric("Step", f"{now.get('step', 0)}" + (f" / {total_steps}" if total_steps else ""))
    c[1].metric("Train loss", fmt(now.get("loss")))
    c[2].metric("Eval loss", fmt(now.get("eval_loss")))
    c[3].metric("Facts recalled", fmt(now.get("facts_recalled"), pct=True),
                help="Closed-book accuracy on the training questions: greedy answer contains the fact.")
    c[4].metric("Open-book accuracy", fmt(now.get("open_book_accuracy"), pct=True),
                help="The same questions with their passage in the prompt (LoRA + RAG).")
    if now.get("tokens_per_s"):
        st.caption(f"{now['tokens_per_s']:,.0f} tokens/s · lr {now.get('lr', 0):.2e} · "
                   f"{now.get('elapsed', 0):.1f} s of training so far (evaluations not counted)")


def preset_widget_values(config, candidates: list[str]) -> dict:
    """Session-state values of the fine-tuning page's settings for a preset's FinetuneConfig."""
    return {"ft_rank": config.rank, "ft_targets": [t for t in config.target_modules if t in candidates],
            "ft_lr_lora": config.learning_rate, "ft_lr_full": 1e-3, "ft_steps": config.max_steps or config.epochs,
            "ft_batch": config.batch_size, "ft_eval_every": config.eval_every, "ft_eval_n": config.max_eval_questions,
            "ft_paraphrases": config.paraphrases, "ft_open_book": config.open_book_mix, "ft_val": config.val_fraction,
            "ft_micro": config.micro_batch_size, "ft_max_facts": config.max_facts, "ft_stop_at": config.stop_at_recall,
            "ft_checkpointing": config.gradient_checkpointing, "ft_upper": config.upper_layers,
            "ft_loss_on": config.loss_on, "ft_bf16": config.bf16}


def show_estimate(estimate) -> None:
    """The measured cost of the run as set (a ``core.finetune.step.Estimate``), or how to measure it."""
    if estimate is None:
        st.caption("Time and memory on this machine: press **Measure** (a few seconds for the built-in model, "
                   "under a minute for a 500M model). The numbers are measured, not guessed.")
        return
    m = st.columns(4)
    m[0].metric("Time per step", f"{estimate.seconds_per_step:.2f} s")
    m[1].metric("Per evaluation", f"{estimate.seconds_per_eval:.1f} s")
    minutes = estimate.total_seconds / 60
    m[2].metric("Projected run", f"{minutes:.1f} min" if minutes >= 1 else f"{estimate.total_seconds:.0f} s",
                help=f"{estimate.steps} steps and {estimate.evals} evaluations; an early stop ends sooner.")
    m[3].metric("Peak memory (measured)", f"{estimate.peak_rss_mb / 1000:.2f} GB",
                help=f"The process's peak while training a step: weights, optimiser state and activations "
                     f"(training added {estimate.added_mb:,.0f} MB).")
GOOD_ENOUGH = 0.8  # facts recalled at which the live panel offers to stop the run early


def run_progress(metrics: dict, live: dict | None, now: float, eval_s: float | None = None) -> tuple[float, str]:
    """(fraction done, words) of a live run: its step against the total, and the time left at the pace so far.

    ``metrics`` is the run's metrics.json, ``live`` the newer numbers the job reported in memory.
    The estimate is wall-clock (evaluations included): elapsed × steps left / steps done. Before the first
    step (the base model's evaluation), ``eval_s``, one evaluation as measured here, stands in for the pace.
    """
    latest = {**latest_numbers(metrics), **(live or {})}
    total = int((live or {}).get("total") or training_counts(metrics)["total"])
    step = int(latest.get("step") or 0)
    if not total:
        return 0.0, "Preparing the training set…"
    progress = progress_of({"done": step, "total": total}, metrics.get("started_at"), now)  # the one job rule
    if step == 0:
        left = f" · about {max(eval_s - progress.elapsed, 0):.0f} s left (measured)" if eval_s else ""
        return 0.0, (f"Step 0 / {total} · measuring the base model first (asking the training questions "
                     f"before any training, so the curves start from the truth) · {progress.elapsed:.0f} s so far{left}")
    return progress.fraction, (f"Step {step} / {total} · {progress.elapsed:.0f} s so far · "
                               f"about {progress.left:.0f} s left")


def good_enough(metrics: dict, live: dict | None = None) -> bool:
    """True once the closed-book score reached GOOD_ENOUGH: the moment to offer "stop now"."""
    return (({**latest_numbers(metrics), **(live or {})}).get("facts_recalled") or 0) >= GOOD_ENOUGH


def probe_table(items, before: list[str], after: list[str], correct) -> pd.DataFrame:
    """Before vs after, the punchline first: question, the adapter's answer and its mark, then the base model's."""
    mark = {True: "✅", False: "❌"}
    return pd.DataFrame([
        {"question": it.question, "adapter": a, "adapter ✓": mark[bool(correct(a, it))],
         "base": b, "base ✓": mark[bool(correct(b, it))], "expected": it.target}
        for it, b, a in zip(items, before, after)
    ])
