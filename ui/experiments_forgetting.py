"""The Experiments page's "Forgetting check" tab: general questions before and after an adapter."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.answering import Answerer
from core.experiments import forgetting_check
from ui.answer_views import no_adapter_prompt
from ui.session_resources import adapter_generator, pick_adapter
from ui.progress import waiting

ss = st.session_state


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
