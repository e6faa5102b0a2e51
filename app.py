"""RAG ⇄ Fine-Tune Lab — the Streamlit entrypoint.

Run with ``streamlit run app.py``. Pages live in ``pages/`` (listed in ``ui/navigation.py``); each
reads ``st.session_state`` and calls ``core``.
"""

import streamlit as st

st.set_page_config(page_title="RAG ⇄ Fine-Tune Lab", page_icon="🧪", layout="wide")

from ui.guide import follow_goto  # noqa: E402
from ui.navigation import navigation  # noqa: E402
from ui.report_sections import refresh_snapshot  # noqa: E402
from ui.sidebar import render_sidebar  # noqa: E402  (after set_page_config)
from ui.state import init_state, save_settings  # noqa: E402
from core.room import teacher_passcode  # noqa: E402

init_state()
page = st.navigation(navigation(teacher=bool(teacher_passcode())))  # the room view needs a passcode
follow_goto()  # a tour step or a preset asked for another page
render_sidebar()
try:
    page.run()
finally:
    save_settings()  # corpus, chunking, indexes, adapter and typed questions survive a refresh and a restart
    refresh_snapshot()  # the take-home report includes what this page just computed
