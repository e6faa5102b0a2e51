"""Views shared by the Answers, Experiments and Quiz pages: the model notice, adapter pickers, answer cards.

They draw what they are given; the session's models (generator, adapters, answerer) come from
``ui.session_resources``, the cached loaders behind them from ``ui.resources``.
"""

from __future__ import annotations

import streamlit as st

from core.llm.choice import ModelChoice
from core.answering import Answer, estimated_cost
from core.rag.corpora import QAItem
from core.decision import Situation
from core.scoring import is_correct
from core.finetune import AdapterInfo
from ui.navigation import page_file
from ui.widgets import escape

FINETUNE_PAGE, MODEL_PAGE = page_file("finetune"), page_file("model")
PRICES = Situation()  # $ per 1k tokens of a small hosted model, the decision guide's defaults
SYSTEM_TITLES = {"base": "Base", "rag": "RAG", "lora": "LoRA", "lora+rag": "LoRA + RAG", "long-context": "Long context"}
SYSTEM_CAPTIONS = {"base": "no retrieval, no adapter", "rag": "retrieved chunks in the prompt",
                   "lora": "adapter, no retrieval", "lora+rag": "adapter and retrieved chunks",
                   "long-context": "every document in the prompt, until the window is full"}


def model_tier_notice(gen, choice: ModelChoice) -> None:
    """Say which model reads this corpus, why, and what it can and cannot do (from its profile); ``choice`` is
    what the Lab's rule picks for the corpus (``ui.session_resources.corpus_choice``)."""
    p = gen.profile
    size = f"{gen.n_params / 1e6:,.1f}M parameters, reads {gen.context_window:,} tokens"
    can = f" It {p.can}." if p.can else ""
    cannot = f" It cannot {p.cannot}." if p.cannot else ""
    how_well = f" {p.how_well}" if p.how_well else ""
    title = p.title[:1].upper() + p.title[1:]
    if gen.name == choice.name:
        st.info(f"📖 **{title} reads this corpus** ({size}), because {choice.reason}.{can}{cannot}{how_well}")
        return
    st.warning(f"**{title}** ({size}) was chosen on the Model page. For this corpus the Lab's rule picks "
               f"`{choice.name}`, because {choice.reason}.{can}{cannot}{how_well}")
    st.page_link(MODEL_PAGE, label="Choose the model on the Model page", icon="🤖")


def adapter_label(a: AdapterInfo) -> str:
    cfg, summary = a.config, a.summary
    para = f", {cfg.get('paraphrases')} paraphrases" if cfg.get("paraphrases") else ""
    recalled = summary.get("facts_recalled")
    score = f" · facts recalled {recalled:.0%}" if isinstance(recalled, (int, float)) else ""
    return f"{a.name} (rank {cfg.get('rank', '?')}{para}{score})"


def no_adapter_prompt() -> None:
    st.info("**No LoRA adapter trained yet** in this session: the LoRA columns stay empty rather than fake an "
            "answer. Train one on the fine-tuning page (it shows the progress and the time left while it trains).")
    st.page_link(FINETUNE_PAGE, label="Train a LoRA adapter", icon="🎛️")


def adapter_missing_reason(info: AdapterInfo | None) -> str:
    """Why a LoRA column is empty: no adapter picked, or the picked one did not load for this model."""
    if info is None:
        return "No adapter loaded: train one on the fine-tuning page to see this answer."
    trained_on = f" (trained on `{info.base_model}`)" if info.base_model else ""
    return (f"The adapter `{info.name}`{trained_on} could not be loaded for the current model (see the message "
            "above): pick another adapter, or train one for this model on the fine-tuning page.")


def answer_html(text: str, cursor: bool = False) -> str:
    """An answer as escaped HTML: model output is shown as text, never as markdown or markup."""
    body = escape(text).replace("\n", "<br>") if text else "<i>(empty answer)</i>"
    return f"<div style='font-size:1.05rem;min-height:2.5em'>{body}{' ▌' if cursor else ''}</div>"


def show_answer(slot, text: str, cursor: bool = False) -> None:
    slot.markdown(answer_html(text, cursor), unsafe_allow_html=True)


def verdict(answer: Answer, reference: QAItem | None) -> str:
    if reference is None:
        return ""
    return f"✅ contains “{reference.target}”" if is_correct(answer.text, reference) else f"❌ no “{reference.target}”"


def answer_stats(answer: Answer) -> str:
    cost = estimated_cost(answer, PRICES.price_in_per_1k, PRICES.price_out_per_1k)
    return (f"{answer.prompt_tokens} prompt + {answer.completion_tokens} answer tokens · {answer.latency_s:.2f} s · "
            f"≈ ${cost * 1000:.3f} per 1,000 requests")


def render_sources(answer: Answer, key: str | None = None):
    """Each source in an expander: the chunk with document and offsets, or the training example.

    With a ``key`` (unique on the page), each also links to where it lives: a training example to the
    fine-tuning page's training set; a chunk gets a "Show it in its document" button, and the chunk
    clicked is returned (the page opens it: ``ui.state.open_in_documents``). Else None.
    """
    clicked = None
    for s in answer.sources:
        if s.kind == "chunk":
            with st.expander(f"[{s.rank}] {s.document} [{s.start}:{s.end}] · score {s.score:.3f}"):
                st.markdown(f"<div style='font-size:0.85rem'>{escape(s.text).replace(chr(10), '<br>')}</div>",
                            unsafe_allow_html=True)
                if key and st.button("Show it in its document", key=f"{key}_src{s.rank}", icon="📄"):
                    clicked = s
        elif s.kind == "document":
            with st.expander(f"[{s.rank}] {s.document} · {s.score:.0%} of it in the prompt"):
                st.markdown(f"<div style='font-size:0.85rem'>{escape(s.text[:1500]).replace(chr(10), '<br>')}"
                            f"{'…' if len(s.text) > 1500 else ''}</div>", unsafe_allow_html=True)
        else:
            with st.expander(f"Training example #{s.index} · similarity {s.score:.2f}"):
                st.markdown(f"**Q:** {escape(s.question)}  \n**A:** {escape(s.text)}")
                if key:
                    st.page_link(FINETUNE_PAGE, label="The adapter's training set", icon="🎛️")
    if answer.n_contexts_dropped:
        st.caption(f"{answer.n_contexts_dropped} retrieved chunk(s) left out so the prompt fits the context window.")
    return clicked


def answer_card(answer: Answer, reference: QAItem | None = None, key: str | None = None):
    """Verdict, stats and sources under an answer (the answer text itself is drawn by the caller); the source
    whose "Show it in its document" was clicked, else None (``render_sources``)."""
    if reference is not None:
        st.markdown(verdict(answer, reference))
    st.caption(answer_stats(answer))
    if answer.corpus_share is not None:
        st.caption(f"{answer.corpus_share:.0%} of the corpus fit in the prompt ({len(answer.sources)} document(s)); "
                   "the rest was not read.")
    if answer.focus:
        with st.expander(f"🔎 Sentence focus: the {len(answer.focus)} sentence(s) the model read"):
            for sentence in answer.focus:
                st.text(sentence)  # document text: shown as text, never as markdown
    return render_sources(answer, key)
