"""``search``/``ask`` reranking flags: the JSON hit keeps its shape and adds the first-stage rank."""

from __future__ import annotations

import json

import pytest

from core.rag.corpora import load_qa
from tests.helpers import FLOWER, cli

SHAPE = {"document", "start", "end", "score", "rank", "text", "first_stage_rank", "first_stage_score"}


@pytest.mark.slow
def test_search_reranks_by_default_and_reports_first_stage_ranks():
    item = load_qa(FLOWER / "qa.jsonl")[0]
    hits = json.loads(cli("search", "--docs", str(FLOWER), "--query", item.question, "--json").stdout)
    assert set(hits[0]) == SHAPE
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert all(1 <= h["first_stage_rank"] <= 20 for h in hits)
    assert len({h["first_stage_rank"] for h in hits}) == 5
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


@pytest.mark.slow
def test_rerank_none_is_the_first_stage_and_candidates_bound_the_ranks():
    query = "How much does delivery to Ashcombe cost?"
    plain = json.loads(cli("search", "--docs", str(FLOWER), "--query", query, "--rerank", "none", "-k", "3",
                           "--json").stdout)
    assert [h["first_stage_rank"] for h in plain] == [1, 2, 3]
    assert all(h["score"] == h["first_stage_score"] for h in plain)
    few = json.loads(cli("search", "--docs", str(FLOWER), "--query", query, "--rerank", "maxsim", "--candidates", "3",
                         "-k", "3", "--json").stdout)
    assert sorted(h["first_stage_rank"] for h in few) == [1, 2, 3]  # a reorder of the same three chunks
    assert {(h["start"], h["document"]) for h in few} == {(h["start"], h["document"]) for h in plain}


@pytest.mark.parametrize("args, message", [
    (["--rerank", "bogus"], "unknown rerank method 'bogus'"),
    (["--candidates", "0"], "candidates must be between 1 and 200"),
    (["--rerank", "cross-encoder"], "needs a model"),
    pytest.param(["--rerank", "cross-encoder", "--rerank-model", "./no/such/folder"], "no cross-encoder folder",
                 marks=pytest.mark.slow),  # loads the embedder and the corpus first: 15-40 s
])
def test_bad_rerank_flags_exit_2_with_one_line(args, message):
    out = cli("search", "--docs", str(FLOWER), "--query", "opening hours", *args, check=False)
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in out.stderr


@pytest.mark.slow
def test_ask_json_sources_carry_the_first_stage_rank():
    world = FLOWER.parent / "world_arcade"
    question = load_qa(world / "qa.jsonl")[0].question
    answer = json.loads(cli("ask", "--docs", str(world / "docs"), "--question", question, "--json").stdout)
    (source,) = answer["sources"]
    assert source["kind"] == "chunk" and source["first_stage_rank"] >= 1
