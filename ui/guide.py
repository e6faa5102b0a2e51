"""The guided path on screen: the tour panel, the demo presets, "reset to defaults" and the glossary.

The words live in ``ui.guide_content``. Buttons change state in callbacks (before any widget is drawn)
and ask ``app.py`` to switch page afterwards (``follow_goto``), since a page cannot switch mid-callback.
"""

from __future__ import annotations

import streamlit as st

from core.rag.chunking import ChunkConfig
from core.rag.corpora import get_corpus, load_qa
from core.errors import LabError
from core.rag.index import IndexConfig
from ui.guide_content import DEFAULT_CORPUS, GLOSSARY, PRESETS, TOUR, Preset
from ui.navigation import page_file
from ui.progress import cost_note, progress_bar
from ui.state import forget_settings

# Widget keys that mirror ss["chunk_config"] / ss["index_config"]: dropped so pages re-read the configs.
MIRROR_KEYS = ("doc_strategy", "doc_size", "doc_overlap", "doc_unit", "doc_semantic_pct",
               "ret_hnsw_m", "ret_ef", "ret_nlist", "ret_nprobe")
QUESTION_KEYS = ("ans_question", "emb_query", "ret_query", "pr_question")


def _first_question(corpus: str) -> str:
    try:
        qa = load_qa(get_corpus(corpus).qa_path)
    except (LabError, OSError, AttributeError):
        return ""
    return qa[0].question if qa else ""


def _fill(values: dict) -> None:
    ss = st.session_state
    for key, value in values.items():
        ss[key] = _first_question(ss["corpus"]) if value == "{qa0}" else value


def apply_preset(preset: Preset) -> None:
    """Callback: the preset's corpus and chunking (defaults elsewhere), its prefilled question, then go there."""
    ss = st.session_state
    for key in MIRROR_KEYS + QUESTION_KEYS + ("ans_pick",):
        ss.pop(key, None)
    forget_settings(MIRROR_KEYS + QUESTION_KEYS)
    ss["corpus"] = preset.corpus
    ss["chunk_config"] = ChunkConfig(**preset.chunk) if preset.chunk else ChunkConfig()
    ss["index_config"] = IndexConfig()
    _fill(preset.state)
    ss["_goto"] = preset.page


def reset_defaults() -> None:
    """Callback: the world corpus, default chunking and indexes, no typed questions, the tour closed."""
    apply_preset(Preset("defaults", "", ""))
    st.session_state["tour_step"] = None


def start_tour(step: int = 0) -> None:
    """Callback: open tour step ``step`` on its page (pre-filling what the step needs)."""
    ss = st.session_state
    ss["tour_step"] = step
    if step is not None:
        ss.setdefault("corpus", DEFAULT_CORPUS)
        _fill(TOUR[step].fill)
        ss["_goto"] = TOUR[step].page


def follow_goto() -> None:
    """Called by app.py after st.navigation: switch to the page a callback asked for."""
    target = st.session_state.pop("_goto", None)
    if target is not None:
        st.switch_page(page_file(target))


def render_tour() -> None:
    """The sidebar's tour panel: the current step's do / notice, a predict-then-reveal question, prev / next."""
    ss = st.session_state
    i = ss.get("tour_step")
    if i is None:
        return
    step = TOUR[i]
    with st.container(border=True):
        st.markdown(f"**🧭 Tour {i + 1}/{len(TOUR)}: {step.title}**")
        st.page_link(page_file(step.page), label="Open this step's page", icon="➡️")
        st.markdown(f"**Do this:** {step.do}")
        if step.question:
            guess = st.radio(f"Predict first: {step.question}", step.options, index=None, key=f"tour_guess_{i}")
            if st.button("Reveal", key=f"tour_reveal_{i}", disabled=guess is None,
                         help="Commit to a guess first."):
                ss[f"tour_revealed_{i}"] = True
            if ss.get(f"tour_revealed_{i}") and guess is not None:
                mark = "✅ right" if guess == step.answer else f"❌ the answer: {step.answer}"
                st.markdown(f"{mark}. {step.why}")
                st.markdown(f"**Notice:** {step.notice}")
        else:
            st.markdown(f"**Notice:** {step.notice}")
        c1, c2, c3 = st.columns(3)
        c1.button("◀", key="tour_prev", disabled=i == 0, on_click=start_tour, args=(i - 1,))
        c2.button("▶", key="tour_next", disabled=i == len(TOUR) - 1, on_click=start_tour, args=(i + 1,))
        c3.button("✖", key="tour_end", on_click=start_tour, args=(None,), help="End the tour")


def render_presets() -> None:
    """One button per classic demo, plus reset to defaults (on the Overview)."""
    cols = st.columns(3)
    for n, preset in enumerate(PRESETS):
        with cols[n % 3]:
            st.button(f"▶ {preset.title}", key=f"preset_{n}", on_click=apply_preset, args=(preset,),
                      width="stretch", help=preset.what)
            st.caption(preset.what)
    st.button("↺ Reset to defaults", key="preset_reset", on_click=reset_defaults,
              help="The 🧪 arcade corpus, default chunking and indexes, no typed questions.")


def render_glossary() -> None:
    """The glossary, in a sidebar expander on every page."""
    with st.expander("📖 Glossary"):
        st.markdown("\n".join(f"* **{term}**: {text}" for term, text in GLOSSARY.items()))


def render_warmup() -> None:
    """The teacher's warm-up: models into this server's caches, samples embedded, UMAP compiled, speed measured."""
    from core.warmup import warm_up
    from ui.resources import get_embedder, get_generator, get_workspace

    with st.expander(f"🔥 Before a class: warm up this server ({cost_note('warm-up')})"):
        st.caption("Loads the models, embeds and indexes every sample corpus, compiles UMAP once (kept on disk for "
                   "later processes) and measures this machine. The same as `python -m core warmup`.")
        if not st.button("Warm up now", key="home_warmup"):
            return
        with st.status("Warming up…", expanded=True) as status:
            with progress_bar("warm-up", "Warming up", 1) as tick:
                get_embedder(None), get_generator(None)  # this server's cached models
                report = warm_up(workspace=get_workspace().root, progress=lambda stage, i, n: tick(i, n, stage))
            status.update(label=f"Warm: {sum(report.stages.values()):.0f} s; the built-in model generates "
                                f"{report.tokens_per_s:,.0f} tokens/s here", state="complete")
            st.dataframe([{"stage": k, "seconds": v} for k, v in report.stages.items()], hide_index=True)
