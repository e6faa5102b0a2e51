"""Small rendering helpers shared by pages and views."""

from __future__ import annotations

import html

import streamlit as st


def escape(text: str) -> str:
    """HTML-escape user text before it goes into any markdown/HTML we render."""
    return html.escape(text, quote=True)



def table_files(rows, meta: dict | None = None) -> tuple[bytes, bytes]:
    """(CSV, JSON) of one results table; the JSON holds ``meta`` (the settings behind it) and ``rows``.

    >>> csv, js = table_files([{"size": 64, "hit_at_5": 0.9}], {"corpus": "world_arcade"})
    >>> csv.decode().splitlines(), js.decode().replace("\\n", "").replace(" ", "")
    (['size,hit_at_5', '64,0.9'], '{"corpus":"world_arcade","rows":[{"size":64,"hit_at_5":0.9}]}')
    """
    import json

    import pandas as pd

    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    records = json.loads(frame.to_json(orient="records"))  # numpy numbers become plain JSON numbers
    return frame.to_csv(index=False).encode(), json.dumps({**(meta or {}), "rows": records}, indent=1).encode()


def download_table(rows, name: str, what: str, key: str, meta: dict | None = None, where=None) -> None:
    """Two buttons, CSV and JSON, for one results table, so learners take the numbers home.

    ``rows`` is a DataFrame or a list of dicts; see ``table_files``. Files are built on click.
    """
    c1, c2 = (where or st).columns(2)
    c1.download_button(f"⬇ {what} (CSV)", lambda: table_files(rows, meta)[0], f"{name}.csv", "text/csv",
                       key=f"{key}_csv")
    c2.download_button(f"⬇ {what} (JSON)", lambda: table_files(rows, meta)[1], f"{name}.json", "application/json",
                       key=f"{key}_json")
