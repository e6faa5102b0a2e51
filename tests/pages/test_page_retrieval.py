"""Retrieval hits page, driven through the entrypoint with AppTest."""

from __future__ import annotations

import re

import pytest

from core.rag.corpora import get_corpus, load_qa
from ui.widgets import escape
from tests.helpers import figures, open_page, text_uploads


PAGE = "pages/3_retrieval.py"
SAMPLE = "prose_flower_shop"  # the smallest sample corpus with a Q&A set


@pytest.fixture
def uploads_page():
    return open_page(PAGE, uploads=text_uploads())


def _cards(at) -> list[str]:
    """The three retrievers' hit cards (the reranking section's cards say "BM25 terms"; the sidebar's
    per-browser cookie snippet is not a card)."""
    return [h.proto.body for h in at.get("html") if "BM25 terms" not in h.proto.body
            and "no question word" not in h.proto.body and "ragft_browser=" not in h.proto.body]


def test_three_retrievers_side_by_side_with_overlap_markers(uploads_page):
    at = uploads_page
    assert any("Type a question" in i.value for i in at.info)  # a hint, not an error
    at.text_input(key="ret_query").set_value("How much is delivery to Ashcombe?")
    at.slider(key="ret_k").set_value(20)
    at.run()
    assert not at.exception and not at.error
    n_chunks = 3
    assert any(f"only {n_chunks} chunks, so k is {n_chunks}" in c.value for c in at.caption)
    assert [m.value for m in at.markdown if m.value.startswith("####")][:3] == [
        "#### Dense (embeddings)", "#### BM25 (keywords)", "#### Hybrid (RRF)"]  # then the reranking section's
    cards = _cards(at)
    assert len(cards) == 3 * n_chunks
    top = cards[0]  # dense #1
    assert "<b>#1</b>" in top and "delivery.md" in top and "Ashcombe" in top
    assert "dense #1" in top and re.search(r"bm25 #\d", top) and re.search(r"hybrid #\d", top)
    assert "cosine" in top and "BM25" in top
    assert "<b style" in top  # the chunk is bold inside its context
    assert any("distinct chunks** are found by all three" in m.value for m in at.markdown)


def test_overlong_question_shows_the_limit(uploads_page):
    at = uploads_page
    at.text_input(key="ret_query").set_value("x" * 2500)
    at.run()
    assert not at.exception and not at.error
    assert any("2,500 characters long; the limit is 2,000" in w.value for w in at.warning)


def test_uploads_have_no_qa_set(uploads_page):
    infos = " ".join(i.value for i in uploads_page.info)
    assert "no Q&A set" in infos


@pytest.mark.slow
def test_sample_corpus_metrics_indexes_and_sweep():
    at = open_page(PAGE, corpus=SAMPLE)
    assert not at.error

    # a question from the Q&A set: each hit says whether it holds the answer
    at.button(key="ret_sample").click()
    at.run()
    first = load_qa(get_corpus(SAMPLE).qa_path)[0]
    assert at.text_input(key="ret_query").value == first.question
    cards = " ".join(h.proto.body for h in at.get("html"))
    assert "✅ holds the answer" in cards and "not the answer" in cards
    assert any(escape(first.target) in m.value for m in at.markdown)

    # retrieval metrics per mode, as a table and a grouped bar chart
    scores = next(df.value for df in at.dataframe if "retriever" in df.value.columns)
    assert list(scores["retriever"]) == ["dense", "bm25", "hybrid"]
    assert (scores["questions"] == 40).all()
    assert ((scores["hit@1"] <= scores["hit@5"]) & (scores["hit@5"] <= 1)).all()
    assert scores.loc[scores["retriever"] == "dense", "hit@5"].item() > 0.5  # real retrieval finds most answers
    bars = next(f for f in figures(at) if f["layout"].get("barmode") == "group")
    assert [t["name"] for t in bars["data"]] == ["dense", "bm25", "hybrid"]

    # exact vs approximate, measured live; IVF on a small corpus is explained, not a crash
    indexes = next(df.value for df in at.dataframe if "index" in df.value.columns)
    assert indexes.loc[indexes["index"] == "flat", "recall@5"].item() == 1.0
    assert "hnsw" in set(indexes["index"])
    ivf_infos = [i.value for i in at.info if i.value.startswith("**IVF:**")]
    assert ivf_infos or "ivf" in set(indexes["index"])
    at.slider(key="ret_ef").set_value(1)
    at.slider(key="ret_hnsw_m").set_value(2)
    at.run()
    assert not at.exception

    # paraphrased questions are scored too
    at.checkbox(key="ret_paraphrases").check()
    at.run()
    scores = next(df.value for df in at.dataframe if "retriever" in df.value.columns)
    assert (scores["questions"] > 40).all()

    # the chunk-size sweep
    at.multiselect(key="ret_sweep_sizes").set_value([128, 192])
    at.button(key="ret_sweep_run").click()
    at.run()
    assert not at.exception
    sweep = next(f for f in figures(at) if f["layout"].get("xaxis", {}).get("title", {}).get("text", "").startswith("chunk size"))
    assert [t["name"] for t in sweep["data"]] == ["hit@1", "hit@5", "MRR"]
    assert sweep["data"][0]["x"] == [128, 192]
    labels = {b.proto.label for b in at.get("download_button")}  # the numbers go home as CSV and JSON
    for what in ("Comparison", "Index comparison", "Sweep"):
        assert {f"⬇ {what} (CSV)", f"⬇ {what} (JSON)"} <= labels, labels


def test_sweep_asks_the_same_question_at_each_size_without_a_qa_set(uploads_page):
    at = uploads_page
    at.text_input(key="ret_query").set_value("When should roses be pruned?")
    at.run()
    at.multiselect(key="ret_sweep_sizes").set_value([16, 64])
    at.button(key="ret_sweep_run").click()
    at.run()
    assert not at.exception and not at.error
    per_size = next(df.value for df in at.dataframe if "top chunk" in df.value.columns)
    assert list(per_size["size"]) == [16, 64]
    assert per_size["chunks"].iloc[0] > per_size["chunks"].iloc[1]  # smaller chunks, more of them
    assert per_size["text"].str.contains("rune").all()  # "Prune roses…" is found at both sizes


def test_the_sweep_says_how_long_it_takes_here_before_it_is_run(uploads_page):
    """Before the click: 'not timed yet' on a fresh machine, then the time measured here, scaled to the sizes chosen."""
    import os
    from pathlib import Path

    from core.runtime.timings import TIMINGS_FILE, Timings

    at = uploads_page
    at.text_input(key="ret_query").set_value("When should roses be pruned?")
    at.multiselect(key="ret_sweep_sizes").set_value([16, 64])
    at.run()
    assert "not timed on this machine yet" in at.button(key="ret_sweep_run").proto.help
    Timings(Path(os.environ["RAGFT_WORKSPACE"]) / TIMINGS_FILE).record("sweep size", 40.0, items=2)  # 20 s a size
    at.multiselect(key="ret_sweep_sizes").set_value([16, 32, 64])
    at.run()
    assert "3 sizes: about 60 s here (measured on this machine)" in at.button(key="ret_sweep_run").proto.help
