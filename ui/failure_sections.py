"""Why each answer failed, drawn from ``core.failures`` labels: counts per system, a Sankey of the same questions
from one system to another, a drill-down per question, and the knob that addresses each label (``core.knobs``).

Render-only: the labels come with the batch evaluation's rows; a re-run with a knob turned calls ``core.knobs.rerun``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.errors import LabError
from core.failures import COLOURS, FAILURES, LABELS, MEANINGS, TITLES, flows, label_answer, where_in_documents
from core.knobs import TRAINING_KNOBS, knobs_for, rerun
from ui.widgets import escape

ss = st.session_state


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def counts_figure(systems: dict[str, dict]) -> go.Figure:
    """Per-label counts for every system side by side (one stacked bar per system, one colour per label)."""
    names = list(systems)
    fig = go.Figure()
    for label in LABELS:
        fig.add_bar(name=TITLES[label], x=names, y=[systems[s].get("failures", {}).get(label, 0) for s in names],
                    marker_color=COLOURS[label], hovertemplate=f"{label}: %{{y}}<extra>%{{x}}</extra>")
    fig.update_layout(barmode="stack", height=340, yaxis_title="answers", margin=dict(t=30, b=10),
                      legend=dict(orientation="h", y=1.15))
    return fig


def sankey_figure(rows: list[dict], source: str, target: str) -> go.Figure:
    """The same questions flowing from their label under ``source`` to their label under ``target``, each band
    coloured by the label it ends in (what the second system made of those questions)."""
    moves = flows(rows, source, target)
    left = [label for label in LABELS if any(a == label for a, _ in moves)]
    right = [label for label in LABELS if any(b == label for _, b in moves)]
    index = {("L", x): i for i, x in enumerate(left)} | {("R", x): len(left) + i for i, x in enumerate(right)}
    totals_l = {x: sum(n for (a, _), n in moves.items() if a == x) for x in left}
    totals_r = {x: sum(n for (_, b), n in moves.items() if b == x) for x in right}
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(label=[f"{source}: {TITLES[x]} ({totals_l[x]})" for x in left]
                  + [f"{target}: {TITLES[x]} ({totals_r[x]})" for x in right],
                  color=[COLOURS[x] for x in left] + [COLOURS[x] for x in right], pad=18, thickness=18),
        link=dict(source=[index[("L", a)] for a, _ in moves], target=[index[("R", b)] for _, b in moves],
                  value=list(moves.values()), color=[_rgba(COLOURS[b], 0.45) for _, b in moves],
                  hovertemplate="%{value} question(s): %{source.label} → %{target.label}<extra></extra>")))
    fig.update_layout(height=380, margin=dict(t=30, b=10, l=10, r=10), font=dict(size=13))
    return fig


def badge_html(label: str, detail: str = "") -> str:
    """A small coloured badge: the label's title, its detail on hover."""
    return (f"<span title='{escape(detail)}' style='background:{_rgba(COLOURS[label], 0.15)};"
            f"border:1px solid {COLOURS[label]};border-radius:10px;padding:1px 8px;font-size:0.8rem'>"
            f"{escape(TITLES[label])}</span>")


def failure_badge(answer, reference, documents, answerer) -> dict | None:
    """Under a wrong answer on the Answers page: why it failed (the same rule as the batch evaluation)."""
    if reference is None:
        return None
    training = getattr(answerer, "training", None)
    failure = label_answer(answer, reference.target, [d.text for d in documents or []] or None,
                           [t.target for t in training.items] if training is not None else None)
    if failure.label != "none":
        st.markdown(badge_html(failure.label, failure.detail), unsafe_allow_html=True)
        st.caption(failure.detail)
    return failure.to_dict()


def legend() -> None:
    """What each label means and the knobs that address it."""
    rows = [{"label": TITLES[x], "what it means": MEANINGS[x],
             "knobs that address it": ", ".join(k.title for k in knobs_for(x)) or "—"} for x in FAILURES]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="exp_fail_legend")


def failure_section(result, qa, docs, answerers: dict) -> None:
    """The "why" of a finished batch evaluation. ``answerers``: system label → (system, Answerer) for re-runs."""
    rows = result.rows
    if not rows or "failure" not in rows[0]:
        return
    st.markdown("#### Why each answer failed")
    st.markdown("Every wrong answer gets one label, by rules you can check against its own texts: was the value "
                "**in the corpus**, **retrieved**, still **in the prompt** the model read, or — closed book — "
                "**learned**? Each label points at the knob that addresses it.")
    st.plotly_chart(counts_figure(result.systems), key="exp_fail_counts")
    systems = list(result.systems)
    if len(systems) > 1:
        c1, c2 = st.columns(2)
        source = c1.selectbox("From system", systems, key="exp_fail_from")
        rest = [s for s in systems if s != source]
        target = c2.selectbox("To system", rest, index=min(len(rest) - 1, 0), key="exp_fail_to")
        st.caption(f"Each band is a group of the same questions: their label under **{source}** (left) and under "
                   f"**{target}** (right), coloured by where they ended.")
        st.plotly_chart(sankey_figure(rows, source, target), key="exp_fail_sankey")
    with st.expander("What each label means, and the knob that addresses it"):
        legend()
    drill_down(rows, qa, docs, answerers)


def _row_name(row: dict) -> str:
    return f"{row['system']} · {'✅' if row['failure'] == 'none' else TITLES[row['failure']]} · {row['question']}"


def drill_down(rows: list[dict], qa, docs, answerers: dict) -> None:
    """One answer, everything that decided its label, and one click per knob that re-runs it."""
    st.markdown("##### Drill down: one question")
    wrong_first = sorted(range(len(rows)), key=lambda i: rows[i]["failure"] == "none")
    pick = st.selectbox("Answer", wrong_first, format_func=lambda i: _row_name(rows[i]), key="exp_fail_pick")
    row = rows[pick]
    item = qa[row["item"]]
    st.markdown(f"**{escape(row['question'])}** — value “{escape(row['target'])}” · system **{row['system']}**")
    st.markdown(badge_html(row["failure"], row["detail"]) + f" &nbsp;{escape(row['detail'])}", unsafe_allow_html=True)
    places = where_in_documents(docs, row["target"])
    st.markdown("**Where the value is in the documents**")
    if not places:
        st.caption("Nowhere: no document holds this value, so no setting of retrieval can find it.")
    for p in places[:3]:
        st.caption(f"{p['document']} [{p['start']}:{p['end']}]: {p['snippet']}")
    if row.get("retrieved") is not None:
        _texts("Retrieved (with rank)", [(f"#{r['rank']} {r['chunk']}", r["text"]) for r in row["retrieved"]],
               row["target"], "exp_fail_retrieved")
        _texts("What reached the prompt", [(f"passage {i}", t) for i, t in enumerate(row["in_prompt"] or [], 1)],
               row["target"], "exp_fail_prompt")
    st.markdown("**The answer**")
    st.text(row["answer"] or "(empty answer)")
    answerer = answerers.get(row["system"], (None, None))
    _confidence(row, item, *answerer)
    _knobs(row, item, *answerer, docs, qa)


def _texts(title: str, named: list[tuple[str, str]], value: str, key: str) -> None:
    """A table of texts: which one, whether it holds the value (the scoring rule), and the text itself."""
    from core.scoring import is_correct

    st.markdown(f"**{title}**")
    if not named:
        st.caption("(none)")
        return
    rows = [{"text": name, "holds the value": "🎯 yes" if is_correct(text, value) else "no",
             "content": " ".join(text.split())[:400]} for name, text in named]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key=key,
                 column_config={"content": st.column_config.TextColumn(width="large")})


def _confidence(row: dict, item, system: str | None, answerer) -> None:
    """The probability this system gives the right value (one teacher-forced pass, on click)."""
    from core.llm.confidence import value_probability

    key = f"exp_fail_conf_{row['system']}_{row['item']}_{row['variant']}_{row['question']}"
    if answerer is not None and st.button("Its confidence on the value", key=f"{key}_go", icon="🎲"):
        try:
            given = answerer.prepare(row["question"], system)
            ss[key] = value_probability(given.generator, given.plan, item.answer, item.target).prob
        except LabError as exc:
            st.error(str(exc))
    if key in ss:
        st.caption(f"P(“{row['target']}” | this system's prompt) = {ss[key]:.3f} (teacher-forced on the reference answer)")


def _knobs(row: dict, item, system: str | None, answerer, docs, qa) -> None:
    knobs = knobs_for(row["failure"], system or "")
    if not knobs:
        return
    st.markdown("**Turn the knob that addresses it**")
    key = f"exp_fail_rerun_{row['system']}_{row['item']}_{row['variant']}"
    cols = st.columns(len(knobs))
    for col, knob in zip(cols, knobs):
        col.caption(knob.why)
        if knob.name == "reader":
            col.button(knob.title, key=f"{key}_{knob.name}", disabled=True, help="Choose a larger model on the Model page.")
            continue
        if knob.name in TRAINING_KNOBS:
            if col.button(knob.title, key=f"{key}_{knob.name}", disabled=answerer is None or answerer.adapter is None,
                          help="Trains a new adapter with this changed (background), then asks this question with it."):
                _start_training(row, knob.name, answerer, qa, docs, key)
            continue
        if col.button(knob.title, key=f"{key}_{knob.name}", disabled=answerer is None):
            try:
                with st.spinner(f"Re-asking with {knob.title.lower()}…"):
                    ss[key] = rerun(answerer, item, system, ss.get("exp_fail_decoding") or _decoding(), knob.name,
                                    row["failure"], question=row["question"], documents=[d.text for d in docs],
                                    cache=_cache(answerer))
            except LabError as exc:
                st.error(str(exc))
    if f"{key}_train" in ss:
        _training_rerun(row, item, system, answerer, qa, docs, key)
    after = ss.get(key)
    if after:
        st.markdown(f"**After {escape(after['change'])}:** " + badge_html(after["failure"], after["detail"]),
                    unsafe_allow_html=True)
        st.text(after["answer"] or "(empty answer)")
        st.caption(after["detail"])


def _start_training(row: dict, knob: str, answerer, qa, docs, key: str) -> None:
    """Queue an adapter like the row's (default settings; paraphrases if its label says so) with ``knob`` turned."""
    from core.finetune import FinetuneConfig
    from core.finetune.job import submit_training
    from core.knobs import training_config
    from ui.state import session_workspace

    before = FinetuneConfig(paraphrases=1 if "paraphrases" in row["system"] else 0)
    config = training_config(knob, before)
    change = {"steps": f"epochs {before.epochs} → {config.epochs}",
              "paraphrases": f"paraphrases {before.paraphrases} → {config.paraphrases}",
              "open_book_mix": f"open-book mix {before.open_book_mix} → {config.open_book_mix}"}[knob]
    ws = session_workspace()
    job, run_dir = submit_training(ws.root, ws.path("adapters"), answerer.base, qa, config,
                                   documents={d.name: d.text for d in docs}, label=f"why-{knob.replace('_', '-')}")
    ss[f"{key}_train"] = {"job": job, "run": run_dir.name, "change": change, "knob": knob}


def _training_rerun(row: dict, item, system: str, answerer, qa, docs, key: str) -> None:
    """While the adapter trains: its progress (polled); once done: one click asks this question with it."""
    import dataclasses

    from core.finetune import list_adapters
    from core.runtime import jobs
    from ui.session_resources import make_answerer
    from ui.state import session_workspace

    train = ss[f"{key}_train"]
    first = jobs.status(train["job"])
    live = first is not None and first.state in jobs.LIVE

    @st.fragment(run_every=2.0 if live else None)  # polls only while it trains
    def progress() -> None:
        status = jobs.status(train["job"])
        if status is not None and status.state in jobs.LIVE:
            st.caption(f"Training `{train['run']}` ({train['change']}): {status.state}, "
                       f"step {status.metrics.get('step', 0)}…")
        elif live:  # it ended since the page ran: draw the page again, with the button to ask
            st.rerun(scope="app")
        elif status is not None and status.state == "failed":
            st.error(f"Training failed: {status.message}")

    progress()
    info = next((a for a in list_adapters(session_workspace().path("adapters"))
                 if a.name == train["run"] and a.status == "done"), None)
    if info is not None and st.button(f"Ask again with `{info.name}` ({train['change']})", key=f"{key}_train_ask"):
        trained = make_answerer(answerer.base, answerer.retriever, info, qa, documents=docs)
        turned = dataclasses.replace(answerer, adapter=trained.adapter, training=trained.training)
        answer = turned.answer(row["question"], system, ss.get("exp_fail_decoding") or _decoding())
        failure = label_answer(answer, item.target, [d.text for d in docs],
                               [t.target for t in turned.training.items] if turned.training else None)
        ss[key] = {"knob": train["knob"], "change": train["change"], "answer": answer.text, **failure.to_dict()}


def _cache(answerer):
    """The shared embedding cache, so a new chunk size embeds only the chunks it has not seen."""
    from ui.resources import get_embedding_cache

    return get_embedding_cache(answerer.retriever.embedder.cache_key) if answerer.retriever is not None else None


def _decoding():
    from core.answering import Decoding

    return Decoding()
