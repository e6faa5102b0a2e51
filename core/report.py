"""A session's take-home report: one self-contained HTML file that opens offline, with no server.

Sections are plain data (headings, paragraphs, tables as lists of dicts, plotly figures); every text is
HTML-escaped, and plotly.js is inlined once so the charts work without a network.

>>> html = build_report("My session", [Section("Answers", paragraphs=["RAG read $70.35."],
...                                            tables=[[{"system": "rag", "correct": True}]])])
>>> "<h2>Answers</h2>" in html and "<td>rag</td>" in html
True
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f3f4f6}h2{border-bottom:2px solid #2f6fdf;padding-bottom:.2em}
.muted{color:#666;font-size:.9em}"""


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)  # plain text, escaped
    tables: list[list[dict]] = field(default_factory=list)  # rows of {column: value}
    figures: list = field(default_factory=list)  # plotly figures


def table_html(rows: list[dict]) -> str:
    """An HTML table of ``rows`` (columns from all rows, in first-seen order); missing cells are blank, never None."""
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    return html.escape(str(value)).replace("\n", "<br>")


def build_report(title: str, sections: list[Section]) -> str:
    """The whole report as one HTML string (plotly.js inlined once, before the first chart)."""
    import plotly.io as pio

    parts, js_done = [], False
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in s.paragraphs]
        parts += [table_html(t) for t in s.tables]
        for fig in s.figures:
            fig.update_layout(margin={"l": 70, "r": 20, "t": 50, "b": 60})  # room for axis titles in a page
            parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=not js_done, default_width="100%"))
            js_done = True
    stamp = time.strftime("%Y-%m-%d %H:%M")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p class='muted'>Exported from the RAG ⇄ Fine-Tune Lab on {stamp}. Every number was computed live "
            f"in the session; this file needs no server or network.</p>{''.join(parts)}</body></html>")
