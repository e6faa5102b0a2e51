"""The room view's lower half: the learners' sessions that hold data (deletable), and failed passcode tries."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import streamlit as st

from core.room import learner_tag, passcode_gate
from core.runtime.limits import limits
from core.runtime.sessions import delete_session, list_sessions
from ui.resources import get_workspace


def _digest(session_id: str) -> str:
    """A widget key for a session: Streamlit writes keys into the page, and the id must never reach it."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()[:16]


def _when(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")


def _delete(session_id: str) -> None:
    delete_session(get_workspace().root / "sessions", session_id)
    st.session_state["room_deleted"] = learner_tag(session_id)


def sessions_section() -> None:
    """Sessions with the learners' files (uploads, runs, adapters), newest first, each with a delete button."""
    st.subheader("Learners' sessions")
    sessions = list_sessions(get_workspace().root / "sessions")
    kept = [s for s in sessions if s.has_data]
    st.caption(f"{len(kept)} session(s) hold files; {len(sessions) - len(kept)} empty one(s) are deleted "
               f"{limits().empty_session_hours} h after their last visit (RAGFT_EMPTY_SESSION_HOURS).")
    if st.session_state.get("room_deleted"):
        st.success(f"Deleted {st.session_state.pop('room_deleted')}'s session.")
    if not kept:
        return
    st.dataframe(pd.DataFrame([{"learner": learner_tag(s.id), "files": s.files, "MB": round(s.bytes / 2**20, 2),
                                "last change": _when(s.modified)} for s in kept]), hide_index=True, width="stretch")
    cols = st.columns(4)
    for i, info in enumerate(kept):
        cols[i % 4].button(f"🗑 Delete {learner_tag(info.id)}'s session", key=f"room_del_{_digest(info.id)}",
                           on_click=_delete, args=(info.id,),
                           help="Removes the learner's uploads, runs and adapters from the server.")


def failed_attempts_section() -> None:
    """Wrong passcode tries since the server started (which computer, when, how long it must wait)."""
    attempts = passcode_gate().failed_attempts()
    st.subheader("Failed passcode tries")
    if not attempts:
        st.caption("None since the server started.")
        return
    st.dataframe(pd.DataFrame([{"when": _when(a.at), "from": a.client, "wrong tries in a row": a.failures,
                                "must wait (s)": a.wait_s} for a in attempts]), hide_index=True, width="stretch")
