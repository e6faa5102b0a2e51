"""Scoring worked examples, summaries, CSV export, and the eval CLI on a world corpus."""

from __future__ import annotations

import csv
import io
import json

import pytest

from core.rag.corpora import QAItem
from core.errors import Cancelled, ConfigError
from core.evaluation import (
    added_words, content_words, evaluate, faithfulness, ovadia_specs, question_variants, rows_to_csv, similarities,
    specs_for, summarise,
)
from core.scoring import contains, exact_match


@pytest.mark.parametrize("answer, target, exact, contained", [
    ("8:30 am", "8:30 am", True, True),
    ("8:30 AM.", "8:30 am", True, True),  # case and outer punctuation do not count
    ("  8:30   am ", "8:30 am", True, True),  # nor does spacing
    ("The shop opens at 8:30 am.", "8:30 am", False, True),
    ("The shop opens at 8:45 am.", "8:30 am", False, False),
    ("It costs $6.50.", "$6.50", False, True),
    ("It costs $6.5", "$6.50", False, False),
    ("", "8:30 am", False, False),
    ("anything", "", False, False),  # an empty target never matches
])
def test_exact_match_and_containment(answer, target, exact, contained):
    assert exact_match(answer, target) is exact
    assert contains(answer, target) is contained


@pytest.mark.parametrize("text, words", [
    ("Ada Vance owns it.", ["ada", "vance", "owns"]),
    ("The price is $6.50, paid at 8:30 am.", ["price", "$6.50", "paid", "8:30"]),
    ("What is the population of Torilhaven? 188,426.", ["population", "torilhaven", "188,426"]),
])
def test_content_words(text, words):
    assert content_words(text) == words


@pytest.mark.parametrize("answer, sources, expected", [
    ("Elmby Blooms is owned by Ada Vance.", ["Ada Vance has owned Elmby Blooms since 1990."], 1.0),
    ("Bo Grey owns Elmby Blooms.", ["Elmby Blooms is owned by Ada Vance."], 0.4),  # bo, grey, owns: 3 of 5 missing
    ("It opens at 9:15 am.", ["Hours: opens at 8:30 am."], 0.5),  # opens found, 9:15 not
    ("Ada Vance.", [], None),  # no retrieved text: faithfulness is undefined
    ("It is.", ["Ada Vance"], None),  # no content words
])
def test_faithfulness(answer, sources, expected):
    assert faithfulness(answer, sources) == expected


def test_added_words_keeps_order_and_filters_by_sources():
    assert added_words("Ada Vance owns it at 8:30", "Someone owns it") == ["ada", "vance", "8:30"]
    assert added_words("Ada Vance owns it at 8:30", "Someone owns it", ["Opening 8:30, owner Ada"]) == ["ada", "8:30"]


def test_question_variants_take_the_last_paraphrases():
    qa = [QAItem("Q1?", "A1", "a1", ("P1a?", "P1b?")), QAItem("Q2?", "A2", "a2")]
    assert question_variants(qa) == [(0, "original", "Q1?"), (1, "original", "Q2?")]
    assert question_variants(qa, 1)[2:] == [(0, "paraphrase", "P1b?")]  # the one paraphrase training leaves out
    assert [q for *_, q in question_variants(qa, 5)][2:] == ["P1b?", "P1a?"]


def _row(system, variant, correct, latency, tokens):
    return {"item": 0, "variant": variant, "question": "q", "target": "t", "system": system, "answer": "a",
            "correct": correct, "exact": False, "similarity": None, "faithfulness": None, "target_in_sources": None,
            "prompt_tokens": 10, "completion_tokens": tokens, "latency_s": latency, "sources": ""}


def test_ovadia_specs_put_the_rows_in_table_2_order():
    plain, reg, par = object(), object(), object()
    specs = ovadia_specs(plain, {"lora": reg, "lora (paraphrases)": par})
    assert [(s.label, s.system) for s in specs] == [
        ("base", "base"), ("rag", "rag"), ("lora", "lora"), ("lora (paraphrases)", "lora"),
        ("lora+rag", "lora+rag"), ("lora (paraphrases)+rag", "lora+rag")]
    assert [s.answerer for s in specs] == [plain, plain, reg, par, reg, par]
    assert [s.label for s in ovadia_specs(plain, {})] == ["base", "rag"]


def test_summarise_and_csv_round_trip():
    rows = [_row("base", "original", False, 0.1, 10), _row("base", "paraphrase", False, 0.3, 12),
            _row("rag", "original", True, 0.2, 8), _row("rag", "paraphrase", False, 0.4, 8)]
    s = summarise(rows)
    assert list(s) == ["base", "rag"]
    assert s["rag"]["accuracy"] == 0.5
    assert (s["rag"]["accuracy_original"], s["rag"]["accuracy_paraphrase"]) == (1.0, 0.0)
    assert s["base"]["latency_s"] == 0.2 and s["base"]["completion_tokens"] == 11 and s["base"]["n"] == 2
    assert s["base"]["faithfulness"] is None  # nothing retrieved
    back = list(csv.DictReader(io.StringIO(rows_to_csv(rows))))
    assert len(back) == 4 and back[2]["system"] == "rag" and back[2]["correct"] == "True"


def test_similarities_rank_a_paraphrase_above_an_unrelated_answer(embedder):
    sims = similarities(embedder, ["The shop opens at 8:30 in the morning.", "Dragons breathe fire."],
                        ["It opens at 8:30 am.", "It opens at 8:30 am."])
    assert sims[0] > 0.5 > sims[1]


# --- batch evaluation with the real tiny model ------------------------------------------------

@pytest.mark.slow  # generates for every system and variant: 86 s on a busy 2-core machine
def test_evaluate_scores_every_system_and_variant(answerer, world, embedder):
    qa = world["qa"][:2]
    calls = []
    result = evaluate(specs_for(answerer, ["base", "rag"]), qa, paraphrases=1, embedder=embedder,
                      progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (8, 8)  # 2 questions × (original + 1 paraphrase) × 2 systems
    assert {(r["system"], r["variant"]) for r in result.rows} == {
        (s, v) for s in ("base", "rag") for v in ("original", "paraphrase")}
    for row in result.rows:
        assert row["correct"] == contains(row["answer"], row["target"])
        assert row["similarity"] is not None and row["completion_tokens"] >= 0
        assert (row["target_in_sources"] is None) == (row["system"] == "base")
    assert result.systems["rag"]["prompt_tokens"] > result.systems["base"]["prompt_tokens"]


def test_evaluate_stops_with_partial_results(answerer, world):
    answered = []
    with pytest.raises(Cancelled) as info:
        evaluate(specs_for(answerer, ["base"]), world["qa"][:3], progress=lambda d, t: answered.append(d),
                 should_stop=lambda: len(answered) >= 2)
    assert len(info.value.partial.rows) == 2 and info.value.partial.complete is False


def test_evaluate_needs_a_system(world):
    with pytest.raises(ConfigError, match="at least one system"):
        evaluate([], world["qa"][:1])


@pytest.mark.slow  # indexes and generates: 55 s on a busy 2-core machine
def test_eval_cli_without_adapter_reports_base_and_rag(world, capsys):
    from core.cli import main

    code = main(["eval", "--docs", str(world["docs"]), "--qa", str(world["qa_path"]), "--limit", "2",
                 "--max-new-tokens", "24", "--json"] + world["model_args"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert list(out["systems"]) == ["base", "rag", "long-context"] and "base, rag and long-context only" in out["note"]
    assert len(out["rows"]) == 6 and {"accuracy", "latency_s", "completion_tokens"} <= set(out["systems"]["rag"])
