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
    (what ``st.navigation`` itself does) and run again, now through app.py, on the same page.

    The mode is one flag for the whole process, read when a run starts. Two sessions can both start in
    the legacy mode (a reconnecting tab and a fresh one, while the first page's imports still load), and
    the first to get here switches the flag off: the other must rerun too, whatever the flag says now, or
    it would go on without a session (``KeyError: 'sid'``). Once per session, so a page run alone for
    good (a script without app.py) fails as before rather than rerunning forever.
    """
    ss = st.session_state
    if "sid" in ss or ss.get(_RERUN_KEY):
        return
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    ss[_RERUN_KEY] = True
    st.rerun()


_RERUN_KEY = "_entry_rerun"  # this session already asked for its run through app.py
