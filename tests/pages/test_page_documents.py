"""Documents & chunking page, driven through the entrypoint with AppTest.

Also holds the helpers the other RAG page tests import (``open_page``, ``figures``, ``rendered_bodies``).
"""

from __future__ import annotations

import json


import pytest
from streamlit.testing.v1 import AppTest

from core.rag.chunking import STRATEGIES
from tests.helpers import figures, open_page, rendered_bodies, text_uploads

TIMEOUT = 180
PAGE = "pages/1_documents.py"
XSS = "<script>alert(1)</script> and <img src=x onerror=alert(1)>"


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_upload_shows_status_per_file_and_chunks_them():
    uploads = text_uploads()
    uploads["latin.txt"] = "Caf\xe9 cr\xe8me opens at 8 am.".encode("cp1252")  # not UTF-8
    uploads["broken.pdf"] = b"%PDF-1.4 this is not really a pdf"
    at = open_page(PAGE, uploads=uploads)
    assert at.session_state["corpus"] == "uploads"  # uploading switches the sidebar's corpus
    status = at.dataframe[0].value.set_index("file")["status"]
    assert status["roses.txt"] == "✅ read"
    assert status["latin.txt"].startswith("⚠️") and "not UTF-8" in status["latin.txt"]
    assert status["broken.pdf"].startswith("❌") and "not a readable PDF" in status["broken.pdf"]
    assert _metric(at, "Documents") == "4"

    chunks = at.dataframe[1].value
    assert int(_metric(at, "Chunks")) == len(chunks) >= 4
    assert set(chunks.columns) >= {"document", "index", "start", "end", "n_tokens", "preview"}
    assert {b.label for b in at.main.get("download_button")} == {"⬇ Chunks as CSV", "⬇ Chunks as JSON"}  # sidebar: the report

    histogram = figures(at)[0]
    assert histogram["data"][0]["type"] == "histogram"
    assert sorted(histogram["data"][0]["x"]) == sorted(chunks["n_tokens"])  # the real lengths, nothing canned
    assert histogram["layout"]["shapes"][0]["x0"] == 256  # MiniLM's max_seq_length

    at.button(key="doc_del_3").click()  # uploads are listed sorted: delivery, latin, roses, tulips
    at.run()
    assert "tulips.txt" not in set(at.dataframe[0].value["file"])
    at.button(key="doc_dismiss_0").click()
    at.run()
    assert "broken.pdf" not in set(at.dataframe[0].value["file"])


def test_changing_strategy_and_size_rechunks_and_is_shared():
    at = open_page(PAGE, uploads=text_uploads())
    before = int(_metric(at, "Chunks"))
    at.selectbox(key="doc_strategy").set_value("characters")
    at.number_input(key="doc_size").set_value(60)
    at.number_input(key="doc_overlap").set_value(10)
    at.run()
    assert not at.exception and not at.error
    config = at.session_state["chunk_config"]
    assert (config.strategy, config.size, config.overlap, config.unit) == ("characters", 60, 10, "characters")
    assert at.radio(key="doc_unit").disabled and at.radio(key="doc_unit").value == "characters"
    table = at.dataframe[1].value
    assert int(_metric(at, "Chunks")) == len(table) > before
    assert ((table["end"] - table["start"]) <= 60).all()

    painted = at.get("html")[1].proto.body
    assert "overlap of chunks" in painted  # 10-character overlaps are marked
    strip = figures(at)[1]
    assert len(strip["data"]) == 2 and all(t["marker"]["symbol"] == "line-ns-open" for t in strip["data"])
    assert len(strip["data"][0]["x"]) == (table["document"] == at.selectbox(key="doc_pick").format_func(
        at.selectbox(key="doc_pick").value)).sum()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_paints_its_chunks_over_the_text(strategy):
    at = open_page(PAGE, uploads=text_uploads())
    at.selectbox(key="doc_strategy").set_value(strategy)
    at.number_input(key="doc_size").set_value(24)
    at.number_input(key="doc_overlap").set_value(4)
    at.run()
    assert not at.exception and not at.error
    table = at.dataframe[1].value
    doc = at.selectbox(key="doc_pick").format_func(at.selectbox(key="doc_pick").value)
    painted = at.get("html")[1].proto.body
    assert painted.count("<sup") == (table["document"] == doc).sum() > 1  # one badge per chunk of the document
    assert at.session_state["chunk_config"].strategy == strategy


def test_invalid_config_shows_the_message_and_keeps_the_old_one():
    at = open_page(PAGE, uploads=text_uploads())
    before = at.session_state["chunk_config"]
    at.number_input(key="doc_overlap").set_value(before.size + 5)
    at.run()
    assert not at.exception
    assert "overlap must be at least 0 and smaller than the chunk size" in at.error[0].value
    assert at.session_state["chunk_config"] == before


def test_long_document_is_paginated():
    long_text = "\n\n".join(f"Paragraph {i}: the shop sells {i} kinds of flowers in spring." for i in range(150))
    at = open_page(PAGE, uploads={"long.txt": long_text.encode()})
    at.selectbox(key="doc_strategy").set_value("sentences")
    at.number_input(key="doc_size").set_value(20)
    at.number_input(key="doc_overlap").set_value(0)
    at.run()
    n_chunks = int(_metric(at, "Chunks"))
    assert n_chunks > 50
    painted = at.get("html")[1].proto.body
    assert painted.count("<sup") == 25 and "#0 ·" in painted
    at.number_input(key="doc_page").set_value(2)
    at.run()
    painted = at.get("html")[1].proto.body
    assert painted.count("<sup") == 25 and "#25 ·" in painted and "#0 ·" not in painted


def test_sample_corpus_is_listed_without_upload_controls():
    at = open_page(PAGE, corpus="prose_flower_shop")
    files = set(at.dataframe[0].value["file"])
    assert {"faq.md", "delivery-and-returns.pdf", "care-guide.docx"} <= files
    assert not [b for b in at.button if (b.key or "").startswith("doc_del_")]
    pages = at.dataframe[0].value.set_index("file")["pages"]
    assert pages["delivery-and-returns.pdf"] >= 1
    chunks = at.dataframe[1].value
    pdf_pages = chunks.loc[chunks["document"] == "delivery-and-returns.pdf", "page"]
    assert pdf_pages.min() == 1 and pdf_pages.max() <= pages["delivery-and-returns.pdf"]
    assert chunks.loc[chunks["document"] == "faq.md", "page"].isna().all()


@pytest.mark.parametrize("page, widget", [
    ("pages/1_documents.py", None),
    ("pages/2_embeddings.py", "emb_query"),
    ("pages/3_retrieval.py", "ret_query"),
])
def test_uploaded_markup_is_never_live_html(page, widget):
    uploads = {"evil.txt": f"Attack notes. {XSS} The secret code is 42.".encode(),
               "evil.md": f"# Title {XSS}\n\nMore text about the secret code.".encode()}
    at = open_page(page, uploads=uploads)
    if widget:
        at.text_input(key=widget).set_value("What is the secret code?")
        at.run()
    assert not at.exception
    shown = rendered_bodies(at) + [json.dumps(f, ensure_ascii=False) for f in figures(at)]  # plotly hover is HTML too
    assert any("&lt;script&gt;" in text for text in shown), "the payload should be shown, escaped"
    own = '<div id="ragft-cookie-note"'  # the Lab's own per-browser key script (ui.state.remember_browser)
    for text in shown:
        if text.startswith(own):
            assert "alert(" not in text and XSS not in text
            continue
        assert "<script" not in text and "<img" not in text, text[:300]


def test_an_upload_is_parsed_once(monkeypatch):
    """Saving an upload and listing the uploads share one parse (a 260 KB nested page once cost 92 s per parse)."""
    import streamlit as st

    import ui.resources
    from core.rag.documents import load_bytes

    st.cache_data.clear()
    parsed: list[str] = []

    def counting(name, data):
        parsed.append(name)
        return load_bytes(name, data)

    monkeypatch.setattr(ui.resources, "load_bytes", counting)
    at = open_page(PAGE, uploads={"roses.txt": text_uploads()["roses.txt"]})
    assert not at.exception and _metric(at, "Documents") == "1"
    assert parsed == ["roses.txt"], parsed
