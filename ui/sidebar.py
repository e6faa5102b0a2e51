"""The sidebar: corpus picker and model status, on every page."""

from __future__ import annotations

import streamlit as st

from core.rag.corpora import list_corpora
from core.rag.embed_backends import check_backend
from ui.guide import render_glossary, render_tour
from ui.report_sections import report_snapshot, session_report
from ui.session_resources import session_generator_name
from ui.state import UPLOADS


def corpus_label(name: str) -> str:
    for c in list_corpora():
        if c.name == name:
            badge = "🧪 world" if c.builtin_model_reads else "📄 prose"
            return f"{c.title} ({badge})"
    return "📤 My uploads"


def render_sidebar() -> None:
    ss = st.session_state
    with st.sidebar:
        render_tour()
        options = [c.name for c in list_corpora()] + [UPLOADS]
        if ss["corpus"] not in options:
            ss["corpus"] = options[0]
        st.selectbox("Corpus", options, key="corpus", format_func=corpus_label,
                     help="🧪 world corpora are read by the built-in tiny LM (they are written in its world); 📄 prose "
                          "corpora and your uploads by the built-in English reader. Upload your own on the Documents page.")
        st.caption("**Models**")
        st.caption(f"Embedder: `{ss['embedder_name'] or 'all-MiniLM-L6-v2'}` · {check_backend(None)} · offline")
        st.caption(f"Generator: `{session_generator_name()}` · "
                   f"{'built-in, offline' if not ss['generator_name'] else 'hub/local'}")
        render_glossary()
        snapshot = ss["_report_snapshot"] = report_snapshot(corpus_label(ss["corpus"]))  # refreshed after the page
        st.download_button("⬇ Session report (HTML)", lambda: session_report(snapshot), "lab-session-report.html",
                           "text/html", key="side_report", help="Settings, answers with sources, training curves and "
                           "experiment results in one file that opens offline.")

