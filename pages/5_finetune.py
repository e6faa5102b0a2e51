"""LoRA fine-tuning: build a training set, size the adapter, train in the background, compare runs."""

from __future__ import annotations

import streamlit as st

from core.finetune import lora_target_candidates
from core.finetune.presets import presets_for
from ui.answer_views import model_tier_notice
from ui.session_resources import base_generator, corpus_choice
from ui.finetune_sections import (
    apply_preset, compare_section, probe_section, saved_section, settings_section, train_section, training_set_section,
)
from ui.state import current_corpus, session_workspace
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

ss = st.session_state

st.title("LoRA fine-tuning")
st.markdown(
    "Fine-tuning puts facts **into the weights**. LoRA freezes the model and trains two thin matrices "
    "(rank *r*) beside chosen linear layers, so only a small share of the parameters change (the calculator "
    "below shows how small for your settings: a tiny model's share is larger than a big model's). "
    "Below, the model learns Q&A pairs; every few steps it is asked the training questions **without any "
    "documents** (facts recalled) and **with** their passage (open-book: LoRA + RAG)."
)
gen = base_generator()
corpus = current_corpus()
model_tier_notice(gen, corpus_choice())
tier = gen.profile.title
st.caption(f"Generator: {tier} ({gen.n_params / 1e6:.1f}M parameters). Memorising Q&A pairs works on 📄 prose "
           "corpora too: the model learns question → answer by heart, no reading needed. Reading a passage "
           "(open-book accuracy) needs a model that understands the corpus's language: the English model does for "
           "plain English, the tiny LM only for the 🧪 world corpora.")
workspace = session_workspace()
adapters_dir = workspace.path("adapters")
candidates = lora_target_candidates(gen.model)
presets = {p.name: p for p in presets_for(gen.model, gen.profile)}

if ss.get("ft_preset_model") != gen.name or ss.get("ft_preset") not in presets:  # first visit, or a new model
    ss["ft_preset"], ss["ft_preset_model"] = next(iter(presets)), gen.name
    apply_preset(presets, candidates)

items, qa, data_settings = training_set_section()
config, report = settings_section(gen, presets, candidates, items, data_settings)
runs = train_section(gen, workspace, adapters_dir, items, config, report)
compare_section(runs)
saved = saved_section(runs, gen)
probe_section(gen, saved, items, qa)
