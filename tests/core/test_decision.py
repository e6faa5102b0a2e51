"""The decision guide: each criterion pushes the right way, reasons cite real pages, costs add up."""

from __future__ import annotations

import doctest
from dataclasses import replace

import pytest

import core.decision as decision
from core.decision import (APPROACHES, CRITERIA, RETRAINS_PER_YEAR, Situation, cost_comparison, recommend,
                           situation_costs)
from ui.navigation import PAGES

APP_PAGES = {p.key for p in PAGES if p.key}  # the addresses of the app's pages (ui/navigation.py)
PE, RAG, FT, BOTH = APPROACHES


def margin(situation: Situation, winner: str, loser: str) -> int:
    scores = recommend(situation).scores
    return scores[winner] - scores[loser]


def test_doctests():
    assert doctest.testmod(decision).failed == 0


# --- each criterion, moved from a neutral answer to a telling one, widens the right gap ---------------

@pytest.mark.parametrize("field, neutral, telling, winner, loser", [
    ("knowledge_change", "never", "daily/real-time", RAG, FT),
    ("knowledge_change", "yearly", "weekly", RAG, FT),
    ("needs_citations", False, True, RAG, FT),
    ("style", "none", "strong", FT, RAG),
    ("style", "none", "some", FT, PE),
    ("jargon", "none", "heavy", FT, PE),
    ("latency", "relaxed", "strict", FT, RAG),
    ("data_size", "hundreds of documents", "a handful of documents", PE, RAG),
    ("data_size", "hundreds of documents", "millions of examples", FT, PE),
    ("labelled_pairs", False, True, FT, RAG),
    ("on_premises", False, True, FT, PE),
    ("no_shared_weights", False, True, RAG, FT),
    ("per_user_access", False, True, RAG, FT),
    ("model_freedom", False, True, RAG, FT),
    ("requests_per_month", 1_000, 5_000_000, FT, RAG),  # through the cost rule
])
def test_each_criterion_pushes_the_right_way(field, neutral, telling, winner, loser):
    base = Situation(knowledge_change="never") if field != "knowledge_change" else Situation()
    before = margin(replace(base, **{field: neutral}), winner, loser)
    after = margin(replace(base, **{field: telling}), winner, loser)
    assert after > before


@pytest.mark.parametrize("answers, expected", [
    ({}, RAG),
    ({"knowledge_change": "daily/real-time", "needs_citations": True}, RAG),
    ({"knowledge_change": "never", "data_size": "a handful of documents"}, PE),
    ({"knowledge_change": "never", "style": "strong"}, FT),
    ({"knowledge_change": "never", "style": "strong", "labelled_pairs": True, "data_size": "thousands of documents"}, FT),
    ({"knowledge_change": "never", "jargon": "heavy", "labelled_pairs": True}, FT),
    ({"knowledge_change": "weekly", "needs_citations": True, "style": "strong"}, BOTH),
    ({"knowledge_change": "weekly", "needs_citations": True, "style": "strong", "labelled_pairs": True}, BOTH),
    ({"knowledge_change": "never", "latency": "strict", "requests_per_month": 1_000_000, "labelled_pairs": True}, FT),
    ({"per_user_access": True, "no_shared_weights": True, "style": "strong"}, RAG),
])
def test_recommend_scenarios(answers, expected):
    assert recommend(Situation(**answers)).approach == expected


def test_recommend_is_deterministic_and_scores_add_up():
    s = Situation(knowledge_change="weekly", style="some", latency="interactive", on_premises=True)
    a, b = recommend(s), recommend(s)
    assert a == b
    assert list(a.scores) == list(APPROACHES)
    for approach in APPROACHES:
        assert a.scores[approach] == sum(r.points[approach] for r in a.reasons)
    assert a.scores[a.approach] == max(a.scores.values())


def test_ties_go_to_the_simpler_approach():
    assert decision._favourite({PE: 1, RAG: 3, FT: 3, BOTH: 3}) == RAG
    assert decision._favourite((2, 2, 0, 0)) == PE


@pytest.mark.parametrize("situation", [
    Situation(),
    Situation(knowledge_change="never", style="strong", jargon="heavy", latency="strict", labelled_pairs=True,
              data_size="millions of examples", on_premises=True, requests_per_month=2_000_000),
    Situation(knowledge_change="daily/real-time", needs_citations=True, style="some", jargon="some",
              latency="interactive", no_shared_weights=True, per_user_access=True, model_freedom=True,
              data_size="a handful of documents"),
])
def test_reasons_cite_real_lab_pages(situation):
    reasons = recommend(situation).reasons
    assert reasons[0].criterion == CRITERIA["effort"] and reasons[-1].criterion == CRITERIA["cost"]
    for r in reasons:
        assert r.lab_page in APP_PAGES and r.lab_page != "decision", r
        assert r.points_to in APPROACHES and r.text and r.experiment
        assert r.points[r.points_to] == max(r.points.values())


def test_every_rule_row_cites_a_real_page_and_moves_a_score():
    for key, rule in decision._RULES.items():
        assert rule.lab_page in APP_PAGES, key
        assert len(rule.points) == len(APPROACHES) and any(rule.points), key


def test_neutral_answers_give_no_reason():
    criteria = [r.criterion for r in recommend(Situation(style="none", jargon="none", latency="relaxed")).reasons]
    assert CRITERIA["style"] not in criteria and CRITERIA["latency"] not in criteria


# --- validation -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"knowledge_change": "hourly"},
     "knowledge_change must be one of never, yearly, monthly, weekly, daily/real-time (got 'hourly')"),
    ({"style": "loud"}, "style must be one of none, some, strong (got 'loud')"),
    ({"jargon": "lots"}, "jargon must be one of none, some, heavy (got 'lots')"),
    ({"latency": "fast"}, "latency must be one of relaxed, interactive, strict (got 'fast')"),
    ({"data_size": "tons"}, "data_size must be one of a handful of documents, hundreds of documents, "
                            "thousands of documents, millions of examples (got 'tons')"),
    ({"requests_per_month": -1}, "requests_per_month must be a whole number of at least 0 (got -1)"),
    ({"context_tokens": 1.5}, "context_tokens must be a whole number of at least 0 (got 1.5)"),
    ({"answer_tokens": True}, "answer_tokens must be a whole number of at least 0 (got True)"),
    ({"price_in_per_1k": -0.01}, "price_in_per_1k must be at least 0 (got -0.01)"),
    ({"finetune_one_off": float("nan")}, "finetune_one_off must be at least 0 (got nan)"),
])
def test_situation_validation(kwargs, message):
    with pytest.raises(ValueError) as err:
        Situation(**kwargs)
    assert str(err.value) == message


@pytest.mark.parametrize("kwargs, message", [
    ({"requests_per_month": -5}, "requests_per_month must be at least 0 (got -5)"),
    ({"price_out_per_1k": -1.0}, "price_out_per_1k must be at least 0 (got -1.0)"),
    ({"retrains_per_year": -1}, "retrains_per_year must be at least 0 (got -1)"),
    ({"months": 0}, "months must be at least 1 (got 0)"),
])
def test_cost_comparison_validation(kwargs, message):
    args = dict(requests_per_month=1000, rag_context_tokens=100, base_prompt_tokens=50, output_tokens=50,
                price_in_per_1k=0.001, price_out_per_1k=0.002, finetune_one_off=10.0)
    with pytest.raises(ValueError) as err:
        cost_comparison(**{**args, **kwargs})
    assert str(err.value) == message


# --- cost arithmetic --------------------------------------------------------------------------------

def test_cost_series_arithmetic():
    c = cost_comparison(10_000, 1_000, 100, 100, 0.002, 0.004, 300.0, months=6, retrains_per_year=6)
    assert c.month == [0, 1, 2, 3, 4, 5, 6]
    assert c.finetune_per_request == pytest.approx((100 * 0.002 + 100 * 0.004) / 1000)  # 0.0006
    assert c.rag_per_request == pytest.approx(c.finetune_per_request + 1_000 * 0.002 / 1000)  # 0.0026
    assert c.rag_monthly == pytest.approx([0] + [26.0] * 6)
    assert c.finetune_monthly == pytest.approx([300] + [6.0 + 150.0] * 6)  # 6 retrains a year = $150 a month
    assert c.rag_cumulative[-1] == pytest.approx(156.0)
    assert c.finetune_cumulative[-1] == pytest.approx(300 + 6 * 156.0)
    assert c.break_even_month is None


@pytest.mark.parametrize("requests, one_off, retrains, months, expected", [
    (100_000, 600, 0, 12, 4),      # saves $150 a month: 600 / 150 = 4, equal totals count as broken even
    (100_000, 601, 0, 12, 5),      # a dollar more and it takes one more month
    (100_000, 0, 0, 12, 1),        # free training pays off at once
    (100_000, 600, 12, 12, None),  # retraining monthly costs more than the context it saves
    (100_000, 3_000, 0, 12, None), # 20 months: beyond the horizon …
    (100_000, 3_000, 0, 24, 20),   # … but inside a longer one
    (0, 600, 0, 12, None),         # no traffic, nothing to save
])
def test_break_even(requests, one_off, retrains, months, expected):
    c = cost_comparison(requests, 1_500, 200, 200, 0.001, 0.002, one_off, months=months, retrains_per_year=retrains)
    assert c.break_even_month == expected
    if expected is not None:
        m = expected
        assert c.finetune_cumulative[m] <= c.rag_cumulative[m] + 1e-6
        assert one_off == 0 or c.finetune_cumulative[m - 1] > c.rag_cumulative[m - 1]


def test_situation_costs_retrain_as_often_as_knowledge_changes():
    s = Situation(knowledge_change="weekly", finetune_one_off=100.0)
    c = situation_costs(s)
    assert RETRAINS_PER_YEAR["weekly"] == 52
    assert c.finetune_monthly[1] - s.requests_per_month * c.finetune_per_request == pytest.approx(100.0 * 52 / 12)


def test_cost_reason_quotes_the_break_even_month():
    s = Situation(knowledge_change="never", requests_per_month=100_000, price_in_per_1k=0.001, price_out_per_1k=0.002,
                  finetune_one_off=600.0)
    cost = recommend(s).reasons[-1]
    assert cost.points_to == FT and "by month 4" in cost.text
    assert recommend(replace(s, finetune_one_off=60_000.0)).reasons[-1].points_to == RAG
