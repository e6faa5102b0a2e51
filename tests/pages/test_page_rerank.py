"""Retrieval page, reranking section: before/after, highlighting (escaped), fusion tuning, chunk edits (AppTest)."""

from __future__ import annotations

import pytest
from tests.helpers import figures, open_page, text_uploads


PAGE = "pages/3_retrieval.py"
SCRIPT = "spam.txt"
HOSTILE = "Delivery costs <script>alert('x')</script> nothing <b>bold</b> in Ashcombe on Sundays."


def _rerank_cards(at) -> list[str]:
    return [h.proto.body for h in at.get("html") if "BM25 terms" in h.proto.body or "no question word" in h.proto.body]


@pytest.fixture
def page():
    at = open_page(PAGE, uploads=text_uploads({SCRIPT: HOSTILE}))
    at.text_input(key="ret_query").set_value("How much is delivery to Ashcombe?")
    at.run()
    assert not at.exception and not at.error
    return at


def test_before_and_after_side_by_side_with_a_slope_chart(page):
    at = page
    assert "#### Before: hybrid top 4" in [m.value for m in at.markdown]
    assert any(m.value.startswith("#### After: fused") for m in at.markdown)
    cards = _rerank_cards(at)
    assert len(cards) == 2 * 4  # 4 chunks in the corpus, k = min(5, 4), both lists
    slope = next(f for f in figures(at) if f["layout"].get("yaxis", {}).get("autorange") == "reversed")
    lines = [t for t in slope["data"] if t["x"] == ["first stage", "reranked"]]
    assert len(lines) == 4
    assert sorted(t["y"][1] for t in lines) == [1, 2, 3, 4]  # every reranked rank gets a line from its old rank
    for part in ("dense cosine", "BM25", "RRF term, dense", "hybrid = sum of RRF terms"):
        assert part in cards[0]
    assert "rerank score" in cards[4] and "MaxSim" in cards[4]


def test_matched_terms_are_marked_and_document_html_stays_text(page):
    cards = _rerank_cards(page)
    hostile = next(c for c in cards if "spam.txt" in c)
    assert "<script>" not in hostile and "<b>bold</b>" not in hostile
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in hostile
    assert "&lt;b&gt;bold&lt;/b&gt;" in hostile
    assert "<mark title='BM25 term “ashcombe”" in hostile and ">Ashcombe</mark>" in hostile
    assert ">Delivery</mark>" in hostile
    delivery = next(c for c in cards if "delivery.md" in c)
    assert "background:#dbeafe" in delivery  # the sentence closest to the question is shaded


def test_method_switch_fusion_tuning_and_scores_without_a_qa_set(page):
    at = page
    at.selectbox(key="ret_rr_method").set_value("maxsim")
    at.slider(key="ret_rrf_k").set_value(5)
    at.run()
    assert not at.exception and not at.error
    assert any(m.value.startswith("#### After: maxsim") for m in at.markdown)
    at.selectbox(key="ret_rr_method").set_value("cross-encoder")
    at.run()
    assert any("needs a model" in i.value for i in at.info)
    at.text_input(key="ret_rr_model").set_value("no-such-org/no-such-model")
    at.run()
    assert any("offline only" in e.value for e in at.error) and not at.exception


def test_edit_a_chunk_and_see_it_move(page):
    at = page
    positions = at.selectbox(key="ret_edit_pos").options
    tulips = next(i for i, label in enumerate(positions) if "tulips.txt" in label)
    at.selectbox(key="ret_edit_pos").set_value(at.selectbox(key="ret_edit_pos").options[tulips])
    at.run()
    area = next(t for t in at.text_area if t.key.startswith("ret_edit_text_"))
    area.set_value("Delivery to Ashcombe costs $4.50 for tulips; delivery to Ashcombe is quick.")
    at.run()
    at.button(key="ret_edit_apply").click()
    at.run()
    assert not at.exception and not at.error
    cards = _rerank_cards(at)
    edited = [c for c in cards if "✎ edited" in c]
    assert edited and "$4.50" in edited[0]
    moves = " ".join(m.value for m in at.markdown if m.value.startswith("✎"))
    assert "tulips.txt #0" in moves and "after it" in moves
    at.button(key="ret_edit_reset").click()
    at.run()
    assert not any("✎ edited" in c for c in _rerank_cards(at))


@pytest.mark.slow
def test_sample_corpus_scores_every_reranker_on_a_button():
    at = open_page(PAGE, corpus="world_arcade")
    at.button(key="ret_sample").click()
    at.run()
    assert any(m.label == "hybrid hit@1" for m in at.metric)
    at.button(key="ret_rr_score").click()
    at.run()
    assert not at.exception and not at.error
    table = next(df.value for df in at.dataframe if "reranker" in df.value.columns)
    assert list(table["reranker"]) == ["none", "sentence", "maxsim", "fused", "mmr"]
    assert (table["hit_at_1"] <= table["hit_at_5"]).all()
    fused = table.loc[table["reranker"] == "fused"].iloc[0]
    assert fused["hit_at_1"] == 1.0  # the world corpus: measured 1.00 before and after
