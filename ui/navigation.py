"""The page registry: every page's file, address, title and menu section, in one place.

``app.py`` builds the menu from it, and links (``st.page_link``/``st.switch_page``
need the file) look pages up by their address: ``page_file("finetune")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class PageSpec:
    key: str  # the address after the server's root ("" for the start page); also the key links use
    file: str
    title: str
    icon: str
    section: str
    teacher_only: bool = False  # listed only on a server started with a teacher passcode


PAGES = (
    PageSpec("", "pages/0_home.py", "Overview", "🏠", "Start"),
    PageSpec("documents", "pages/1_documents.py", "Documents & chunking", "📄", "RAG: set up and retrieve"),
    PageSpec("embeddings", "pages/2_embeddings.py", "Embedding space", "🗺️", "RAG: set up and retrieve"),
    PageSpec("retrieval", "pages/3_retrieval.py", "Retrieval hits", "🔎", "RAG: set up and retrieve"),
    PageSpec("prompt", "pages/4_prompt.py", "Prompt assembly", "🧩", "RAG: set up and retrieve"),
    PageSpec("finetune", "pages/5_finetune.py", "LoRA fine-tuning", "🎛️", "Fine-tune and compare"),
    PageSpec("answers", "pages/6_answers.py", "Side-by-side answers", "⚖️", "Fine-tune and compare"),
    PageSpec("experiments", "pages/7_experiments.py", "Experiments", "🧫", "Fine-tune and compare"),
    PageSpec("quiz", "pages/11_quiz.py", "Class quiz", "🎯", "Fine-tune and compare"),
    PageSpec("decision", "pages/8_decision.py", "Decision guide", "🧭", "Fine-tune and compare"),
    PageSpec("model", "pages/9_model.py", "Model", "🤖", "Fine-tune and compare"),
    PageSpec("room", "pages/10_room.py", "Room view", "🧑‍🏫", "Teacher", teacher_only=True),
)
BY_KEY = {p.key: p for p in PAGES}


def page_file(key: str) -> str:
    """The file of the page at address ``key`` (what ``st.page_link`` and ``st.switch_page`` take)."""
    return BY_KEY[key].file


def navigation(teacher: bool) -> dict[str, list]:
    """The menu for ``st.navigation``: sections in registry order, the teacher's pages only if ``teacher``."""
    menu: dict[str, list] = {}
    for p in PAGES:
        if p.teacher_only and not teacher:
            continue
        page = (st.Page(p.file, title=p.title, icon=p.icon, default=True) if p.key == "" else
                st.Page(p.file, title=p.title, icon=p.icon, url_path=p.key))
        menu.setdefault(p.section, []).append(page)
    return menu
