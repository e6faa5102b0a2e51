"""RAG ⇄ Fine-Tune Lab — the Streamlit entrypoint.

Run with ``streamlit run app.py``. Pages live in ``pages/``; each reads
``st.session_state`` and calls ``core``.
"""

import streamlit as st

st.set_page_config(page_title="RAG ⇄ Fine-Tune Lab", page_icon="🧪", layout="wide")

from ui.guide import follow_goto  # noqa: E402
from ui.report_views import refresh_snapshot  # noqa: E402
from ui.sidebar import render_sidebar  # noqa: E402  (after set_page_config)
from ui.state import init_state, save_settings  # noqa: E402
from core.room import teacher_passcode  # noqa: E402

PAGES = {
    "Start": [
        st.Page("pages/0_home.py", title="Overview", icon="🏠", default=True),
    ],
    "RAG: set up and retrieve": [
        st.Page("pages/1_documents.py", title="Documents & chunking", icon="📄", url_path="documents"),
        st.Page("pages/2_embeddings.py", title="Embedding space", icon="🗺️", url_path="embeddings"),
        st.Page("pages/3_retrieval.py", title="Retrieval hits", icon="🔎", url_path="retrieval"),
        st.Page("pages/4_prompt.py", title="Prompt assembly", icon="🧩", url_path="prompt"),
    ],
    "Fine-tune and compare": [
        st.Page("pages/5_finetune.py", title="LoRA fine-tuning", icon="🎛️", url_path="finetune"),
        st.Page("pages/6_answers.py", title="Side-by-side answers", icon="⚖️", url_path="answers"),
        st.Page("pages/7_experiments.py", title="Experiments", icon="🧫", url_path="experiments"),
        st.Page("pages/8_decision.py", title="Decision guide", icon="🧭", url_path="decision"),
        st.Page("pages/9_model.py", title="Model", icon="🤖", url_path="model"),
    ],
}

if teacher_passcode():  # the teacher's room view exists only on a server started with a passcode
    PAGES["Teacher"] = [st.Page("pages/10_room.py", title="Room view", icon="🧑‍🏫", url_path="room")]

init_state()
page = st.navigation(PAGES)
follow_goto()  # a tour step or a preset asked for another page
render_sidebar()
try:
    page.run()
finally:
    save_settings()  # corpus, chunking, indexes, adapter and typed questions survive a refresh and a restart
    refresh_snapshot()  # the take-home report includes what this page just computed
