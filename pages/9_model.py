"""Model panel: which generator is loaded, what it is, how it was trained, and how to load a real one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.llm.profiles import builtin_folder, builtin_names, load_profile
from core.errors import ModelUnavailable
from core.llm.loading import pin_generator
from core.llm.train_log import read_train_log
from ui.model_views import training_curve
from ui.answer_views import model_tier_notice
from ui.session_resources import corpus_choice, session_generator_name
from ui.resources import get_embedder, get_generator, load_with_progress
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

st.title("🤖 Model")
ss = st.session_state

try:
    gen = get_generator(session_generator_name())
except ModelUnavailable as exc:  # a chosen model vanished from the cache, or the built-in files are missing
    st.error(str(exc))
    if ss["generator_name"] is None:
        st.stop()
    ss["generator_name"] = None
    st.rerun()

left, right = st.columns([2, 1])
with left:
    st.subheader("Generator in use")
    st.markdown(
        f"**{gen.name}** · {gen.profile.title + ' (offline)' if gen.is_builtin else 'hub / local model'}  \n"
        f"{gen.n_params / 1e6:.2f} M parameters · vocabulary {len(gen.tokenizer):,} tokens · "
        f"context window {gen.context_window:,} tokens"
    )
    model_tier_notice(gen, corpus_choice())
    rows = [{"model": n, "reads": p.reads or "-", "picked by the rule": "yes" if p.default else "by name only",
             "where": "fetched into the model cache" if p.origin == "fetch" else "in the repo"}
            for n, p in ((n, load_profile(n)) for n in builtin_names())]
    st.caption(f"The built-in models (profiles in models/<name>/lab.json); for this corpus the rule picks "
               f"`{corpus_choice().name}`. Type a name below to load another.")
    st.dataframe(pd.DataFrame(rows), hide_index=True)
with right:
    emb = get_embedder(ss["embedder_name"])
    st.subheader("Embedder")
    st.markdown(f"**{emb.name}** · {emb.dim}-dimensional vectors · truncates at {emb.max_seq_length} tokens")

st.subheader("Load another generator")
st.caption(
    "Any Hugging Face causal LM id (e.g. `HuggingFaceTB/SmolLM2-135M-Instruct`, `Qwen/Qwen2.5-0.5B-Instruct`) "
    "or a local folder. The first load downloads it (internet needed once); afterwards it runs offline from the cache."
)
with st.form("model_form"):
    name = st.text_input("Model id or local path", key="model_name_input", placeholder="HuggingFaceTB/SmolLM2-135M-Instruct")
    keep = st.checkbox(f"Keep `{gen.name}` in memory too", key="model_pin",
                       help="Loading a model frees the previous one (a 500M model takes 2 GB); tick to keep both.")
    c1, c2 = st.columns(2)
    load = c1.form_submit_button("Load model", type="primary")
    reset = c2.form_submit_button("Back to the model the rule picks")
if reset:
    ss["generator_name"] = None
    st.rerun()
if load:
    if not name.strip():
        st.warning("Type a model id or a local folder first.")
    else:
        failure = None
        with st.status(f"Loading {name.strip()}…", expanded=True) as status:
            pin_generator(session_generator_name(), keep)
            try:
                load_with_progress(name.strip())
                get_generator(name.strip())  # now a cache hit
            except ModelUnavailable as exc:
                status.update(label="Could not load the model", state="error", expanded=False)
                failure = exc
            else:
                ss["generator_name"] = name.strip()
                status.update(label=f"Loaded {name.strip()}", state="complete")
                st.rerun()
        if failure is not None:  # outside the status box: visible without a click
            st.error(f"{failure}\n\n`{gen.name}` stays loaded.")

if gen.is_builtin:
    folder = builtin_folder(gen.name) if gen.name in builtin_names() else None
    log = read_train_log(folder / "train_log.jsonl") if folder else None
    if log is not None and log.curve:
        st.subheader("How it was trained")
        st.plotly_chart(training_curve(log), key="model_curve")
        if log.evals:
            st.dataframe(pd.DataFrame(log.evals), hide_index=True)
    card = folder / "MODEL_CARD.md" if folder else None
    if card is not None and card.exists():
        with st.expander("Model card", expanded=False):
            st.markdown(card.read_text(encoding="utf-8"))
