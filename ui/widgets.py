"""Small rendering helpers shared by pages."""

from __future__ import annotations

import html

import streamlit as st


def not_built_yet(what: str, issue: str) -> None:
    """An honest placeholder: no fake content on pages a later issue builds."""
    st.info(f"**Not built yet.** {what} arrives with the issue “{issue}”. Nothing on this page is simulated.")


def escape(text: str) -> str:
    """HTML-escape user text before it goes into any markdown/HTML we render."""
    return html.escape(text, quote=True)
