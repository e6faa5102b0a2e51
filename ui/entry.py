"""Every page runs through app.py, also in the first runs of a freshly started server.

This module is the ONE place that touches Streamlit's page routing; nothing else in app.py, ui/ or
pages/ does (tests/test_layout.py checks both that and that every page calls ``through_app()`` first).

WHY: the Lab keeps its pages in a folder named ``pages/`` next to ``app.py`` (the design names it), and
Streamlit (1.67) decides from that folder's mere existence, when a server process creates its first
session, to run in its legacy multipage mode (``PagesManager.uses_pages_directory``). It stays in that
mode until some run calls ``st.navigation``, which switches it off for the whole process. In that window a
run asked for a page (``/finetune``: a bookmarked address, or a browser tab that reconnects by itself after
a restart) executes the page file ALONE: no ``init_state``, no session id, no sidebar, a
``KeyError: 'sid'`` traceback instead of the learner's runs. A run asked for ``/`` is not at risk: the
legacy mode runs app.py, whose ``st.navigation`` routes it.

The alternatives, and why not:

- no public setting turns the legacy mode off (st.navigation's documentation: once a session calls it,
  the folder is ignored; before that, it is not), and Streamlit runs none of the Lab's code before the
  first session is created, so the flag cannot be set at start-up from ``streamlit run app.py``;
- renaming the folder would avoid the mode altogether, but ``pages/`` is the project's documented layout;
- serving through ``st.App`` (ASGI, with a lifespan hook) would give a start-up hook, but changes how the
  Lab is started and deployed, for one flag;
- switching the flag when ``ui`` is first imported covers only the very first run of a process: a second
  session that started in the legacy mode meanwhile still ran its page alone.

So every page's first statement is ``through_app()``: a run that arrives without app.py switches the
mode off (what ``st.navigation`` itself does) and reruns, now through app.py, on the same page. The
guard is the browser test that starts a fresh server and opens several pages at once
(``tests/browser/test_reliability.py::test_first_visits_to_a_fresh_server_all_reach_their_page``), and
the SIGKILL-and-restart test beside it. If a future Streamlit drops the legacy mode, the flag is
unused and ``through_app`` becomes a no-op.
"""

from __future__ import annotations

import streamlit as st


def through_app() -> None:
    """Called first by every page: when Streamlit ran this page without app.py, leave the legacy mode
    and run again, now through app.py, on the same page.

    The mode is one flag for the whole process, read when a run starts. Two sessions can both start in
    the legacy mode (a reconnecting tab and a fresh one, while the first page's imports still load), and
    the first to get here switches the flag off: the other must rerun too, whatever the flag says now, or
    it would go on without a session (``KeyError: 'sid'``). So the sign of a run without app.py is the
    missing session id, not the flag. Once per session, so a page run alone for good (a script without
    app.py) fails as before rather than rerunning forever.
    """
    ss = st.session_state
    if "sid" in ss or ss.get(_RERUN_KEY):
        return
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode: nothing to leave
        return
    PagesManager.uses_pages_directory = False
    ss[_RERUN_KEY] = True
    st.rerun()


_RERUN_KEY = "_entry_rerun"  # this session already asked for its run through app.py
