"""Decision guide: answer questions about your situation, get a recommendation with its reasons and costs."""

import json
from dataclasses import asdict

import streamlit as st

from core.decision import (CHANGE_RATES, DATA_SIZES, JARGON_LEVELS, LATENCY_LEVELS, RETRAINS_PER_YEAR,
                           STYLE_LEVELS, Situation, recommend, situation_costs)
from ui.decision_views import cost_chart, render_recommendation
from ui.navigation import page_file
from ui.numbers import number_box
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

LATENCY_HELP = {"relaxed": "relaxed (seconds are fine)", "interactive": "interactive (a chat)",
                "strict": "strict (sub-second, e.g. autocomplete)"}

st.title("🧭 Decision guide")
st.markdown(
    "RAG and fine-tuning are not rivals: they fix different problems. **RAG** hands the model the right facts at the "
    "moment it answers, so they can be fresh, cited and filtered per user. **Fine-tuning** changes how the model "
    "behaves every time: its voice, its format, its field's vocabulary, its speed. And before either, try "
    "**prompt engineering**: clear instructions and a few examples cost nothing and often are enough.\n\n"
    "Describe your situation below. Every point in the recommendation comes from one answer, and each reason links "
    "to the Lab page where you can watch the effect happen."
)


def situation_form() -> dict:
    """The non-cost criteria, read from widgets."""
    st.subheader("Your situation")
    answers = {
        "knowledge_change": st.select_slider("How often does the knowledge change?", CHANGE_RATES, value="monthly",
                                             key="dg_change"),
        "needs_citations": st.toggle("Answers must cite their sources", key="dg_cite"),
        "style": st.radio("A style, tone or output format the model must learn", STYLE_LEVELS, horizontal=True,
                          key="dg_style"),
        "jargon": st.radio("Domain-specific vocabulary (jargon)", JARGON_LEVELS, horizontal=True, key="dg_jargon"),
        "latency": st.radio("Latency", LATENCY_LEVELS, format_func=LATENCY_HELP.get, horizontal=True,
                            key="dg_latency"),
        "data_size": st.selectbox("How much data is there?", DATA_SIZES, index=1, key="dg_data"),
        "labelled_pairs": st.toggle("Labelled question–answer pairs exist", key="dg_pairs"),
        "model_freedom": st.toggle("We want to switch base models freely", key="dg_freedom"),
    }
    st.caption("**Privacy**")
    answers["on_premises"] = st.checkbox("The data may not leave our premises", key="dg_on_prem")
    answers["no_shared_weights"] = st.checkbox("The data may not be baked into weights that others use",
                                               key="dg_no_shared")
    answers["per_user_access"] = st.checkbox("Each user may see only the documents they are allowed to",
                                             key="dg_per_user")
    return answers


def cost_form() -> dict | None:
    """Traffic, token counts and prices for the cost panel (they also feed the recommendation); None while a box
    holds no valid number (its message says which)."""
    c1, c2, c3, c4 = st.columns(4)
    form = {
        "requests_per_month": number_box(c1, "Requests per month", 0, 100_000_000, "dg_requests", 10_000, step=1_000),
        "context_tokens": number_box(c2, "RAG context tokens per request", 0, 200_000, "dg_context", 1_500, step=100,
                                     help="The retrieved chunks. See their real counts on the Prompt page."),
        "prompt_tokens": number_box(c3, "Other prompt tokens", 0, 200_000, "dg_prompt", 200, step=50,
                                    help="Instructions and the question: both approaches send these."),
        "answer_tokens": number_box(c4, "Answer tokens", 0, 100_000, "dg_answer", 200, step=50),
        "corpus_tokens": number_box(c4, "Whole corpus, tokens (long context)", 0, 10_000_000, "dg_corpus", 50_000,
                                    step=1_000, help="Long context pastes every document into each "
                                    "request (if the model's window holds them)."),
        "price_in_per_1k": number_box(c1, "$ per 1k input tokens", 0, 1, "dg_price_in", 0.0005, step=0.0001,
                                      whole=False, format="%.4f"),
        "price_out_per_1k": number_box(c2, "$ per 1k output tokens", 0, 1, "dg_price_out", 0.0015, step=0.0001,
                                       whole=False, format="%.4f"),
        "finetune_one_off": number_box(c3, "$ per fine-tuning run", 0, 10_000_000, "dg_one_off", 500, step=100,
                                       whole=False, help="Data preparation, compute and evaluation."),
    }
    return None if None in form.values() else form


def render_costs(s: Situation) -> None:
    c = situation_costs(s, months=24)
    retrains = RETRAINS_PER_YEAR[s.knowledge_change]
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("RAG, per request", f"${c.rag_per_request:,.5f}")
    m2.metric("Fine-tuned, per request", f"${c.finetune_per_request:,.5f}")
    m3.metric("Long context, per request", f"${c.long_context_per_request:,.5f}" if c.long_context_cumulative else "—")
    m4.metric("Break-even", f"month {c.break_even_month}" if c.break_even_month else "not within 2 years")
    st.plotly_chart(cost_chart(c), key="dg_cost_chart")
    st.caption(f"Both use the same token prices. Fine-tuning is retrained {retrains}× a year to keep up with knowledge "
               f"that changes “{s.knowledge_change}” (set above), spread evenly over the months. With RAG + "
               "fine-tuning the facts stay in the index, so you would pay for the context *and* one training run. The "
               "recommendation counts a fine-tune as paying off only if it does so within the first 12 months.")


left, right = st.columns([5, 6], gap="large")
with left:
    answers = situation_form()
st.divider()
st.subheader("Cost: RAG's extra tokens vs a one-off fine-tune vs the whole corpus in every prompt")
st.markdown("RAG pays for its retrieved context on **every** request. Fine-tuning pays up front (and again at every "
            "retrain), then sends shorter prompts. Which is cheaper depends on traffic, context size and how often "
            "you must retrain. Long context needs no index and no training, but sends the **whole corpus** with every "
            "request (and only works while the corpus fits the model's window).")
costs = cost_form()
if costs is None:
    st.info("The cost panel and the recommendation wait until every number above is valid.")
else:
    situation = Situation(**answers, **costs)
    render_costs(situation)
    with right:
        recommendation = recommend(situation)
        render_recommendation(recommendation)
        st.download_button("⬇ Recommendation (JSON)", json.dumps(
            {"situation": asdict(situation), "recommendation": asdict(recommendation)}, indent=1, ensure_ascii=False),
            "recommendation.json", "application/json", key="dg_download")

st.divider()
st.subheader("What the sources agree on")
st.markdown(
    """
* **Start with the prompt.** Instructions, a role and a few examples are the cheapest fix; reach for more only
  when they are not enough.
* **Facts that move, need a source, or belong to some users only: RAG.** The index is updated in seconds, every
  answer can show the passage it used, and access is checked before anything reaches the model.
* **Form, voice, vocabulary and speed: fine-tuning.** Examples teach a style better than descriptions do, and
  knowledge in the weights needs no long prompt, which can let a small model replace a large one.
* **Fine-tuning ties you to a model and goes stale.** Each new base model, and each change in the facts, means
  another training run.
* **Often the answer is both:** a model fine-tuned for the field's form, fed fresh facts by retrieval.
* **Measure before you commit.** Run your own questions through all five systems, as on the Experiments page,
  and let the numbers decide.
"""
)
st.page_link(page_file("experiments"), label="Batch evaluation and knowledge update experiments", icon="🧫")
