"""Small rendering helpers shared by pages and views."""

from __future__ import annotations

import html


def escape(text: str) -> str:
    """HTML-escape user text before it goes into any markdown/HTML we render."""
    return html.escape(text, quote=True)
