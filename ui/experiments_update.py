"""The Experiments page's "Knowledge update" tab: change one fact in a copy of its document, re-index and
ask again (RAG follows, the adapter stays stale), or write the new fact into the weights (a rank-one edit)."""

from __future__ import annotations

import streamlit as st

from core.errors import LabError
from core.experiments import knowledge_update
from core.scoring import is_correct
from ui.answer_views import answer_html, answer_stats, no_adapter_prompt, render_sources
from ui.session_resources import make_answerer, pick_adapter, saved_bank
from ui.progress import cost_note, progress_bar, waiting
from ui.resources import get_embedding_cache

ss = st.session_state


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
                        decoding=decoding, adapter_dir=info.path if info else None, bank=saved_bank() or None)
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
            if r.bank is not None:
                asked = [i.question for i in r.bank if i.value == r.new_value]
                st.caption(f"The question bank follows the edit: only the questions of {', '.join(r.bank_remade) or 'no document'} "
                           f"were made again ({sum(i.document in r.bank_remade for i in r.bank)} of {len(r.bank)})"
                           + (f"; the new value is asked as “{asked[0]}”." if asked else "."))
        weight_edit_section(base, qa, docs, item, new_value)
