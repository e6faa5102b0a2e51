"""Shared pieces of the Answers and Experiments pages: generator, adapters, answer cards.

Adapters are loaded once per (base model, adapter folder, save time) with
``st.cache_resource``; ``load_adapter`` puts them on one shared copy of the base
model (peft adapter switching), so the cached base generator is never changed.
"""

from __future__ import annotations

import streamlit as st

from core.llm.choice import ModelChoice, choose_model
from core.answering import Answer, Answerer, TrainingExamples, estimated_cost, training_items
from core.rag.corpora import CorpusInfo, QAItem
from core.decision import Situation
from core.errors import AdapterError, ModelUnavailable
from core.scoring import is_correct
from core.finetune import AdapterInfo, adapter_fits, list_adapters
from ui.navigation import page_file
from ui.resources import get_embedder, get_generator, get_reranker
from ui.state import current_documents, session_workspace
from ui.widgets import escape

DOCUMENTS_PAGE, FINETUNE_PAGE, MODEL_PAGE = page_file("documents"), page_file("finetune"), page_file("model")
REAL_MODEL_HINT = "HuggingFaceTB/SmolLM2-135M-Instruct"
PRICES = Situation()  # $ per 1k tokens of a small hosted model, the decision guide's defaults
SYSTEM_TITLES = {"base": "Base", "rag": "RAG", "lora": "LoRA", "lora+rag": "LoRA + RAG", "long-context": "Long context"}
SYSTEM_CAPTIONS = {"base": "no retrieval, no adapter", "rag": "retrieved chunks in the prompt",
                   "lora": "adapter, no retrieval", "lora+rag": "adapter and retrieved chunks",
                   "long-context": "every document in the prompt, until the window is full"}


@st.cache_data(max_entries=64, show_spinner=False)
def _choice_for(texts: tuple[str, ...]) -> ModelChoice:
    return choose_model(texts=texts)


def corpus_choice() -> ModelChoice:
    """The model the one rule (core.llm.choice) picks for the current documents (sample corpus or uploads)."""
    return _choice_for(tuple(d.text[:20_000] for d in current_documents()[:20]))


def session_generator_name() -> str:
    """The Model page's choice, else the built-in model the rule picks for the current corpus."""
    return st.session_state.get("generator_name") or corpus_choice().name


def base_generator():
    """The session's generator (Model page choice, else the built-in model for the corpus; fetched with a
    progress bar the first time); stops the page if it cannot load."""
    try:
        return get_generator(session_generator_name())
    except ModelUnavailable as exc:
        st.error(f"The generator cannot be loaded: {exc}")
        st.page_link(MODEL_PAGE, label="Choose another model on the Model page", icon="🤖")
        st.stop()


def model_tier_notice(gen, corpus: CorpusInfo | None = None) -> None:
    """Say which model reads this corpus, why, and what it can and cannot do (from its profile)."""
    choice, p = corpus_choice(), gen.profile
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


def saved_adapters(gen=None) -> list[AdapterInfo]:
    """The session's adapters that have weights, newest first; with ``gen``, only those trained on its model
    (an adapter is never offered under another base)."""
    adapters = [a for a in list_adapters(session_workspace().path("adapters")) if a.has_weights]
    return [a for a in adapters if adapter_fits(a, gen)] if gen is not None else adapters


def adapter_label(a: AdapterInfo) -> str:
    cfg, summary = a.config, a.summary
    para = f", {cfg.get('paraphrases')} paraphrases" if cfg.get("paraphrases") else ""
    recalled = summary.get("facts_recalled")
    score = f" · facts recalled {recalled:.0%}" if isinstance(recalled, (int, float)) else ""
    return f"{a.name} (rank {cfg.get('rank', '?')}{para}{score})"


def pick_adapter(adapters: list[AdapterInfo], label: str, key: str, prefer=None) -> AdapterInfo | None:
    """A selectbox of adapters (``prefer(a)`` chooses the default); None when there are none."""
    if not adapters:
        return None
    default = next((i for i, a in enumerate(adapters) if prefer and prefer(a)), 0)
    names = [a.name for a in adapters]
    if st.session_state.get(key) not in (None, *names):
        del st.session_state[key]  # a saved choice (e.g. restored after a refresh) whose adapter is gone
    name = st.selectbox(label, names, index=default, key=key, format_func=lambda n: adapter_label(adapters[names.index(n)]))
    return adapters[names.index(name)]


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


@st.cache_resource(max_entries=4, show_spinner="Loading the LoRA adapter…")
def _adapter_generator(base_name: str | None, path: str, mtime: float):
    from core.finetune import load_adapter
    from core.llm.loading import load_generator

    return load_adapter(load_generator(base_name), path)  # no spinner element inside a cached function


@st.cache_resource(max_entries=4, show_spinner=False)
def _training_examples(embedder_name: str | None, path: str, mtime: float, _fallback: tuple[QAItem, ...]):
    items = training_items(path, _fallback)
    return TrainingExamples.build(get_embedder(embedder_name), items) if items else None


def adapter_generator(info: AdapterInfo | None):
    """The adapter model for ``info`` (or None); shows an error and returns None if it cannot load."""
    if info is None:
        return None
    weights = info.path / "adapter_model.safetensors"
    mtime = (weights if weights.exists() else info.path / "metrics.json").stat().st_mtime
    try:
        return _adapter_generator(session_generator_name(), str(info.path), mtime)
    except AdapterError as exc:
        st.error(str(exc))
        return None


def make_answerer(base, retriever, info: AdapterInfo | None, qa: list[QAItem] | None, k: int | None = None,
                  mode: str = "hybrid", documents=None, focus: int | None = None) -> Answerer:
    adapter = adapter_generator(info)
    training = None
    if adapter is not None:
        training = _training_examples(st.session_state.get("embedder_name"), str(info.path),
                                      (info.path / "metrics.json").stat().st_mtime, tuple(qa or ()))
    reranker = get_reranker(st.session_state.get("embedder_name"))  # RAG reads the reranked top chunk(s)
    return Answerer(base, retriever, adapter, training, k=k, mode=mode, reranker=reranker, documents=documents,
                    focus=focus)


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


def render_sources(answer: Answer, key: str | None = None) -> None:
    """Each source in an expander: the chunk with document and offsets, or the training example.

    With a ``key`` (unique on the page), each also links to where it lives: a chunk opens its
    document on the Documents page, a training example the fine-tuning page's training set.
    """
    for s in answer.sources:
        if s.kind == "chunk":
            with st.expander(f"[{s.rank}] {s.document} [{s.start}:{s.end}] · score {s.score:.3f}"):
                st.markdown(f"<div style='font-size:0.85rem'>{escape(s.text).replace(chr(10), '<br>')}</div>",
                            unsafe_allow_html=True)
                if key and st.button("Show it in its document", key=f"{key}_src{s.rank}", icon="📄"):
                    st.session_state["doc_focus"] = {"document": s.document, "start": s.start, "end": s.end}
                    st.switch_page(DOCUMENTS_PAGE)
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


def answer_card(answer: Answer, reference: QAItem | None = None, key: str | None = None) -> None:
    """Verdict, stats and sources under an answer (the answer text itself is drawn by the caller)."""
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
    render_sources(answer, key)
