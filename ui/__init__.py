"""Streamlit glue shared by the pages: cached resources, session state, sidebar.

Everything that computes lives in ``core``; this package only wires core to
``st.session_state``, caches and widgets.
"""

import streamlit as st


def _ensure_navigation() -> None:
    """Route every run through ``app.py``'s ``st.navigation``.

    Because the project keeps its pages in ``pages/``, Streamlit starts each
    server process in its legacy multipage mode, in which a direct visit to
    ``/documents`` runs the page file alone (no sidebar, no shared state).
    ``st.navigation`` switches the process out of that mode; when a page is
    reached before that happened, switch now and rerun through ``app.py``.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:  # a future Streamlit without the legacy mode
        return
    if PagesManager.uses_pages_directory and get_script_run_ctx() is not None:
        PagesManager.uses_pages_directory = False
        st.rerun()


_ensure_navigation()
