"""The Documents page's top: the upload box, the corpus in use, and every file's status.

Uploads are saved in callbacks (before the page draws), so a new upload can switch the sidebar's corpus.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import DocumentError
from core.rag.documents import Document
from core.runtime.limits import limits
from core.runtime.workspace import safe_name
from ui.document_views import status_rows
from ui.state import UPLOADS, current_corpus, current_documents, delete_upload, save_upload, uploaded_documents

UPLOAD_TYPES = ["txt", "md", "pdf", "docx", "html", "htm"]
ss = st.session_state


def _on_upload() -> None:
    """Save files that are new in the uploader (a callback, so it can switch the sidebar's corpus)."""
    saved, errors = ss.setdefault("doc_saved_files", set()), ss.setdefault("doc_upload_errors", {})
    notes = ss.setdefault("doc_upload_notes", {})
    new = [f for f in ss.get("doc_upload") or [] if f.file_id not in saved]
    for file in new:
        saved.add(file.file_id)
        try:
            doc = save_upload(file.name, file.getvalue())
            errors.pop(file.name, None)
        except DocumentError as exc:
            errors[file.name] = str(exc)
            continue
        if doc.name != file.name:
            notes[doc.name] = renamed_note(file.name, doc.name)
    if new:
        ss["corpus"] = UPLOADS


def renamed_note(given: str, stored: str) -> str:
    """Why an upload's file name changed: another upload holds the cleaned name, or characters were replaced."""
    cleaned = safe_name(given)
    if cleaned != stored:
        return (f"“{given}” was saved as “{stored}”: another upload is already stored as “{cleaned}”, "
                "so both files are kept.")
    return f"“{given}” was saved as “{stored}” (characters a file name cannot hold were replaced)."


def _use_uploads() -> None:
    ss["corpus"] = UPLOADS


def _dismiss(name: str) -> None:
    ss.get("doc_upload_errors", {}).pop(name, None)


def documents_section() -> list[Document]:
    """Draw the upload box and the documents' status (delete and dismiss buttons for uploads); return the documents."""
    with st.expander("📤 Upload your own documents", expanded=current_corpus() is None):
        st.file_uploader("Text, Markdown, PDF, Word or HTML files", type=UPLOAD_TYPES, accept_multiple_files=True,
                         key="doc_upload", on_change=_on_upload,
                         help="Files stay in this session's private workspace folder until you delete them.")
        bounds = limits()
        st.caption(f"Limits per file: {bounds.document_chars:,} characters of text, {bounds.html_tags:,} tags in an "
                   "HTML page (a teacher can raise them: docs/limits.md).")
        if current_corpus() is not None:
            st.button("Use my uploads as the corpus", key="doc_use_uploads", on_click=_use_uploads)

    corpus = current_corpus()
    if corpus is None:
        docs, load_errors = uploaded_documents()
        errors = {**load_errors, **ss.get("doc_upload_errors", {})}
        st.subheader("📤 My uploads")
    else:
        docs, errors = current_documents(), {}
        st.subheader(f"📚 {corpus.title}")
        st.caption(corpus.description)

    if docs or errors:
        st.dataframe(pd.DataFrame(status_rows(docs, errors)), hide_index=True, width="stretch")
    for name, note in ss.get("doc_upload_notes", {}).items():
        if corpus is None and any(d.name == name for d in docs):
            st.info(note, icon="📝")
    for message in errors.values():  # each message already names its file and says what to do
        st.error(message, icon="❌")
    for doc in docs:
        if doc.metadata.get("warning"):
            st.warning(doc.metadata["warning"], icon="⚠️")
    if corpus is None:
        stored = [d.name for d in docs] + [n for n in load_errors]
        rejected = [n for n in ss.get("doc_upload_errors", {}) if n not in stored]
        cols = st.columns(4)
        for i, name in enumerate(stored):
            cols[i % 4].button(f"🗑 Delete {name}", key=f"doc_del_{i}", on_click=delete_upload, args=(name,))
        for j, name in enumerate(rejected):
            cols[(len(stored) + j) % 4].button(f"✖ Dismiss {name}", key=f"doc_dismiss_{j}", on_click=_dismiss, args=(name,))
    return docs
