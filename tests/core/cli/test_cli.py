"""The CLI is a public interface: flags and JSON shapes are tested as users' scripts call them.

A few tests start a real ``python -m core`` process (exit codes, JSON alone on stdout); the rest call
``core.cli.main`` in this process, which runs the same code without paying for a fresh interpreter,
torch import and model load each time.
"""

from __future__ import annotations

import json

import pytest

from core.rag.corpora import list_corpora, load_qa
from core.scoring import normalise
from tests.helpers import FLOWER, cli, in_process


@pytest.fixture(autouse=True)
def _session_embedder(monkeypatch, embedder):
    """In-process commands reuse the session's default embedder instead of loading it again per call."""
    import core.rag.embedding

    original = core.rag.embedding.load_embedder

    def load(name=None, backend=None, export_root=None):
        return embedder if name is None and backend is None and export_root is None else original(name, backend, export_root)

    monkeypatch.setattr(core.rag.embedding, "load_embedder", load)


@pytest.mark.slow
def test_search_json_shape_and_supporting_passage_at_rank_1():
    item = load_qa(FLOWER / "qa.jsonl")[0]
    hits = json.loads(cli("search", "--docs", str(FLOWER), "--query", item.question, "--json").stdout)
    assert isinstance(hits, list) and len(hits) == 5
    assert {"document", "start", "end", "score", "rank", "text"} <= set(hits[0])  # extended with first_stage_*
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert hits[0]["document"] == item.document
    assert normalise(item.value) in normalise(hits[0]["text"])


def test_queries_file_gives_a_list_per_query_in_order(tmp_path, capsys):
    qa = load_qa(FLOWER / "qa.jsonl")[:3]
    path = tmp_path / "queries.txt"
    path.write_text("\n".join(q.question for q in qa) + "\n\n")
    # one document: 300-character sentence chunks of the whole corpus took 6 s to embed for a test of the shape
    result = json.loads(in_process(capsys, "search", "--docs", str(FLOWER / "faq.md"), "--queries-file", str(path), "-k", "2",
                            "--mode", "bm25", "--chunker", "sentences", "--chunk-size", "300", "--overlap", "30",
                            "--unit", "characters", "--json").stdout)
    assert len(result) == 3 and all(len(hits) == 2 for hits in result)
    assert all(isinstance(h["score"], float) for hits in result for h in hits)


def test_search_text_output_and_file_arguments(capsys):
    files = [str(p) for p in sorted(FLOWER.glob("*.md"))]
    out = in_process(capsys, "search", "--docs", *files, "--query", "delivery fee", "-k", "1").stdout
    assert out.startswith("? delivery fee") and " 1. " in out


@pytest.mark.parametrize("args, message", [
    (["--chunk-size", "0"], "greater than 0"),
    (["--chunk-size", "50", "--overlap", "60"], "smaller than the chunk size"),
    (["--query", ""], "empty"),
])
def test_bad_flags_give_a_clear_error_and_exit_2(args, message, capsys, tmp_path):
    base = ["search", "--docs", str(FLOWER)]
    if "--query" not in args:
        base += ["--query", "opening hours"]
    out = in_process(capsys, *base, *args, check=False)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert not list(tmp_path.rglob("vectors.npy"))  # refused before the corpus was embedded


def test_a_real_process_exits_2_with_one_line():
    out = cli("search", "--docs", str(FLOWER), "--query", "opening hours", "--chunk-size", "0", check=False)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().count("\n") == 0 and "greater than 0" in out.stderr


def test_ingest_saves_a_loadable_index(tmp_path, capsys):
    out = in_process(capsys, "ingest", str(FLOWER), "--workspace", str(tmp_path), "--json").stdout
    summary = json.loads(out)
    assert summary["documents"] == len(list(FLOWER.glob("*.*"))) - 2  # minus qa.jsonl and corpus.json
    from core.rag.embedding import load_embedder
    from core.rag.retrieval import Retriever

    loaded = Retriever.load(summary["index"], load_embedder())
    assert len(loaded.chunks) == summary["chunks"]


def test_sample_corpora_have_valid_qa():
    corpora = [c for c in list_corpora() if c.qa_path]
    assert len(corpora) >= 3
    for corpus in corpora:
        qa = load_qa(corpus.qa_path)
        assert len(qa) >= 10
        assert all(len(q.paraphrases) >= 2 for q in qa), corpus.name
