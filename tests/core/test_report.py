"""The take-home report's HTML: escaped text, no raw None, plotly inlined once (offline)."""

from __future__ import annotations

import plotly.graph_objects as go

from core.report import Section, build_report, table_html


def test_table_escapes_and_blanks_missing_values():
    html = table_html([{"answer": "<script>x</script>", "score": None}, {"answer": "ok", "extra": 0.123456}])
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "None" not in html and "0.123" in html and html.count("<tr>") == 3  # header + two rows


def test_plotly_is_inlined_once_for_offline_reading():
    figs = [go.Figure(go.Scatter(x=[0, 1], y=[1, 0])) for _ in range(2)]
    html = build_report("r", [Section("Runs", figures=figs)])
    assert html.count("plotly.js v") == 1  # the library itself, once
    assert 'src="https://cdn.plot.ly' not in html  # no script loaded from the network
    assert html.count('class="plotly-graph-div"') == 2
