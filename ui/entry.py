"""Every page runs through app.py, also in the first runs of a freshly started server.

Because the Lab keeps its pages in a folder named ``pages/`` next to ``app.py``, Streamlit starts each
new server process in its legacy multipage mode, and stays in it until some run has called
``st.navigation`` (app.py does, on its first run). A browser tab that reconnects on its own after a
restart asks for its page (e.g. ``finetune``) in that window, and the legacy mode runs the page file
alone: no session id, no sidebar, a ``KeyError: 'sid'`` traceback instead of the learner's runs.
"""

from __future__ import annotations

import streamlit as st


def through_app() -> None:
    """Called first by every page: when Streamlit ran this page without app.py, leave the legacy mode
    (what ``st.navigation`` itself does) and run again, now through app.py, on the same page."""
    if "sid" in st.session_state:
        return
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:  # only then: otherwise a rerun would come straight back here
        PagesManager.uses_pages_directory = False
        st.rerun()
