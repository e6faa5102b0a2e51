"""Bounded work per input, upload names that keep their data, sessions that are swept or kept, the passcode's
back-off and atomic index saves: the server-wide limits of core.runtime.limits, exercised through the CLI and core.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from core.errors import ConfigError, DatasetError, FileTooLarge
from core.rag.corpora import parse_qa
from core.rag.documents import load_bytes
from core.room import PasscodeGate
from core.runtime.limits import ENV, Limits
from core.runtime.sessions import (NO_COOKIE_NOTE, browser_keys, claim, list_sessions, new_browser_key, new_session_id,
                                   owns, resolve_session, sweep_empty_sessions)
from core.runtime.workspace import safe_name, store_upload, upload_name
from tests.helpers import FLOWER, ROOT, in_process

HELDOUT = "sample_data/heldout_english"


def nested_html(depth: int) -> bytes:
    return ("<html><body>" + "<div>x " * depth + "deep text" + "</div>" * depth + "</body></html>").encode()


# --- the limits themselves ----------------------------------------------------------------------

def test_every_limit_has_an_env_var_and_a_default_of_at_least_one(monkeypatch):
    assert set(ENV) == {row["limit"].replace(" ", "_") for row in Limits().rows()}
    monkeypatch.setenv("RAGFT_MAX_QA_ROWS", "7")
    assert Limits.from_env().qa_rows == 7


@pytest.mark.parametrize("raw", ["0", "-3", "many"])
def test_a_bad_setting_is_refused_with_its_env_var(raw):
    with pytest.raises(ConfigError, match="RAGFT_MAX_EXAMPLE_TOKENS must be a whole number"):
        Limits.from_env({"RAGFT_MAX_EXAMPLE_TOKENS": raw})


# --- work per input -----------------------------------------------------------------------------

def test_a_20000_word_answer_is_refused_with_exit_2_and_one_line(tmp_path, capsys):
    qa = tmp_path / "long.jsonl"
    qa.write_text(json.dumps({"question": "Tell me everything?", "answer": " ".join(["word"] * 20_000)}) + "\n")
    out = in_process(capsys, "finetune", "--qa", str(qa), "--out", str(tmp_path / "run"), check=False)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "Tell me everything?" in out.stderr and "the limit is 512 per example" in out.stderr
    assert "RAGFT_MAX_EXAMPLE_TOKENS" in out.stderr and not (tmp_path / "run").exists()


def test_a_run_over_the_memory_limit_per_job_is_refused_with_exit_2_and_one_line(tmp_path, capsys, monkeypatch):
    """The CLI measures one real step (its heaviest batch) before the job starts, as the Fine-tuning page does."""
    world = "sample_data/world_greenhouse"
    args = ("finetune", "--qa", f"{world}/qa.jsonl", "--out", str(tmp_path / "run"), "--steps", "1", "--json")
    monkeypatch.setenv("RAGFT_MAX_JOB_MEMORY_MB", "1")
    out = in_process(capsys, *args, check=False)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "this server allows 1 MB per training job" in out.stderr and "RAGFT_MAX_JOB_MEMORY_MB" in out.stderr
    assert not (tmp_path / "run").exists()
    monkeypatch.setenv("RAGFT_MAX_JOB_MEMORY_MB", "100000")  # a teacher raises it: the same run trains
    out = in_process(capsys, *args, check=False)
    assert out.returncode == 0 and json.loads(out.stdout)["steps"] == 1, out.stderr


def test_a_teacher_raises_the_example_limit(monkeypatch):
    from core.finetune.data import check_example_tokens

    with pytest.raises(DatasetError):
        check_example_tokens("q", 600)
    monkeypatch.setenv("RAGFT_MAX_EXAMPLE_TOKENS", "1000")
    check_example_tokens("q", 600)


def test_rows_per_qa_set_are_bounded(monkeypatch):
    monkeypatch.setenv("RAGFT_MAX_QA_ROWS", "3")
    rows = "".join(json.dumps({"question": f"q{i}?", "answer": "a"}) + "\n" for i in range(4))
    with pytest.raises(DatasetError, match="has 4 rows; the limit is 3 per Q&A set"):
        parse_qa("big.jsonl", rows.encode())
    assert len(parse_qa("ok.jsonl", "".join(rows.splitlines(True)[:3]).encode())) == 3


def test_characters_per_document_and_tags_per_page_are_bounded(monkeypatch):
    monkeypatch.setenv("RAGFT_MAX_DOCUMENT_CHARS", "100")
    with pytest.raises(FileTooLarge, match="holds 101 characters of text; the limit is 100"):
        load_bytes("long.txt", b"x" * 101)
    monkeypatch.setenv("RAGFT_MAX_HTML_TAGS", "50")
    with pytest.raises(FileTooLarge, match="tags; the limit is 50 per HTML file"):
        load_bytes("deep.html", nested_html(40))


def test_deeply_nested_html_is_read_in_one_pass():
    """20,000 nested <div>s: once 92 s per parse (a parent search per text node); timings are in bench/."""
    doc = load_bytes("nested.html", nested_html(20_000))
    assert doc.text.startswith("x\nx\n") and doc.text.endswith("x deep text") and doc.text.count("\n") == 19_999


def test_pre_keeps_its_line_breaks_and_cells_stay_apart():
    doc = load_bytes("p.html", b"<p>a\n  b</p><pre>x\n  y</pre><table><tr><td>1</td><td>2</td></tr></table>")
    assert doc.text == "a b\n\nx\n  y\n1 2"


# --- upload names -------------------------------------------------------------------------------

def test_names_keep_their_script_and_extension():
    assert safe_name("日本語.txt") == "日本語.txt"
    assert load_bytes(safe_name("日本語.txt"), "本文".encode()).text == "本文"
    assert safe_name("../../etc/passwd") == "passwd" and safe_name("???.md") == "unnamed.md"


def test_two_names_that_clean_alike_both_survive_and_the_same_name_replaces(tmp_path):
    first = upload_name(tmp_path, "a b.txt", b"one")
    store_upload(tmp_path, first, "a b.txt", b"one")
    second = upload_name(tmp_path, "a_b.txt", b"two")
    store_upload(tmp_path, second, "a_b.txt", b"two")
    assert (first, second) == ("a_b.txt", "a_b-2.txt")
    assert (tmp_path / "a_b.txt").read_bytes() == b"one" and (tmp_path / "a_b-2.txt").read_bytes() == b"two"
    assert upload_name(tmp_path, "a b.txt", b"one, corrected") == "a_b.txt"  # a new version of the same file


# --- sessions -----------------------------------------------------------------------------------

def test_a_cookie_with_two_tabs_keys_opens_both_sessions(tmp_path):
    first, second = new_browser_key(), new_browser_key()
    sid1, _ = resolve_session(tmp_path, None, first)
    sid2, _ = resolve_session(tmp_path, None, second)  # tab 2, opened at once, wrote its key second
    keys = browser_keys(f"{first}.{second}")
    assert resolve_session(tmp_path, sid1, keys) == (sid1, None)
    assert resolve_session(tmp_path, sid2, keys) == (sid2, None)
    assert owns(tmp_path, sid1, second)  # adopted: the cookie's other key opens it from now on


def test_no_cookie_gets_the_honest_note(tmp_path):
    sid, _ = resolve_session(tmp_path, None, new_browser_key())
    _, note = resolve_session(tmp_path, sid, new_browser_key(), cookie_sent=False)
    assert note == NO_COOKIE_NOTE and "another browser" not in note
    _, note = resolve_session(tmp_path, sid, new_browser_key(), cookie_sent=True)
    assert "another browser" in note


def test_empty_abandoned_sessions_are_swept_and_sessions_with_data_kept(tmp_path):
    key = new_browser_key()
    empty, fresh, busy, open_now = (new_session_id() for _ in range(4))
    for sid in (empty, fresh, busy, open_now):
        claim(tmp_path, sid, key)
    (tmp_path / busy / "uploads").mkdir()
    (tmp_path / busy / "uploads" / "notes.txt").write_text("data")
    old = 1_000.0
    for sid in (empty, busy, open_now):
        for path in (tmp_path / sid).rglob("*"):
            os.utime(path, (old, old))
    gone = sweep_empty_sessions(tmp_path, max_age_s=3600, keep=[open_now], now=old + 7200)
    assert gone == [empty]
    assert {s.id for s in list_sessions(tmp_path)} == {fresh, busy, open_now}
    assert [s.id for s in list_sessions(tmp_path) if s.has_data] == [busy]


# --- the teacher passcode -----------------------------------------------------------------------

def test_the_passcode_backs_off_per_client_and_logs_each_wrong_try():
    gate = PasscodeGate(allowed=3, base_wait_s=5)
    results = [gate.attempt("10.0.0.7", f"guess{i}", "owl-42", now=100.0) for i in range(5)]
    assert [wait for _, wait in results] == [0.0, 0.0, 5.0, 5.0, 5.0]  # the 4th and 5th were not even checked
    assert gate.attempt("10.0.0.8", "owl-42", "owl-42", now=100.0) == (True, 0.0)  # another computer is not blocked
    assert gate.attempt("10.0.0.7", "wrong", "owl-42", now=106.0) == (False, 10.0)  # the wait doubles
    assert [a.failures for a in gate.failed_attempts()] == [4, 3, 2, 1]
    assert "10.0.0.7" not in str(gate.failed_attempts())  # a tag, not the address


# --- CLI: counts, text and paths ------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["search", "-k", "0"], "-k must be at least 1 (got 0)"),
    (["search", "-k", "-1"], "-k must be at least 1 (got -1)"),
    (["search", "--rerank", "fused", "--candidates", "0"], "candidates must be between 1 and 200"),
    (["search", "--rerank", "fused", "-k", "0"], "-k must be at least 1 (got 0)"),
    (["search", "--query", "\udcff\udcfe"], "--query is not valid text"),
    (["search", "--workspace", "FILE"], "--workspace FILE is a file; give a folder"),
    (["ask", "--system", "rag", "-k", "0"], "-k must be at least 1 (got 0)"),
    (["ask", "--threads", "-1"], "--threads must be at least 0 (got -1)"),
    (["ask", "--question", "\udcff"], "--question is not valid text"),
    (["eval", "--qa", f"{HELDOUT}/qa.jsonl", "--paraphrases", "-1"], "--paraphrases must be at least 0"),
    (["eval", "--qa", f"{HELDOUT}/qa.jsonl", "-k", "0"], "-k must be at least 1"),
    (["eval", "--qa", HELDOUT], "--qa sample_data/heldout_english is a folder; give a file"),
    (["finetune", "--qa", f"{HELDOUT}/qa.jsonl", "--out", "FILE"], "--out FILE is a file; give a folder"),
    (["ingest", "--workspace", "FILE"], "--workspace FILE is a file; give a folder"),
    (["world", "--seed", "1", "--out", "FILE"], "--out FILE is a file; give a folder"),
])
def test_bad_counts_text_and_paths_exit_2_with_one_line(args, message, capsys, tmp_path, monkeypatch):
    (tmp_path / "FILE").write_text("not a folder")
    monkeypatch.chdir(tmp_path)
    os.symlink(ROOT / "sample_data", tmp_path / "sample_data")
    command, rest = args[0], args[1:]
    base = {"search": ["--docs", str(FLOWER), "--query", "opening hours"],
            "ask": ["--docs", str(FLOWER), "--question", "opening hours?"],
            "eval": ["--docs", str(FLOWER)], "ingest": [str(FLOWER)]}.get(command, [])
    if "--query" in rest or "--question" in rest:
        base = base[:2]
    out = in_process(capsys, command, *base, *rest, check=False)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and message in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_an_argparse_error_is_one_line_too(capsys):
    out = in_process(capsys, "search", "--docs", str(FLOWER), "--query", "x", "-k", "many", check=False)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "invalid int value" in out.stderr


def test_a_real_process_refuses_an_undecodable_query():
    import subprocess
    import sys

    out = subprocess.run([sys.executable.encode(), b"-m", b"core", b"search", b"--docs", str(FLOWER).encode(),
                          b"--query", b"\xff\xfe"], cwd=ROOT, capture_output=True, timeout=300)
    assert out.returncode == 2 and out.stdout == b""
    assert out.stderr.strip().count(b"\n") == 0 and b"not valid text" in out.stderr


# --- atomic index saves -------------------------------------------------------------------------

def test_an_index_save_that_fails_leaves_the_old_index_whole(tmp_path, embedder, monkeypatch):
    import core.rag.retrieval as retrieval
    from core.rag.chunking import ChunkConfig
    from core.rag.documents import load_paths

    docs = load_paths([FLOWER / "faq.md"])
    retriever = retrieval.Retriever.build(docs, embedder, ChunkConfig())
    folder = retriever.save(tmp_path / "idx", docs)
    before = np.load(folder / "vectors.npy")
    original = retrieval.atomic_write_json

    def crash_on_marker(path, obj):
        if path.name == "index.json":
            raise OSError("disk full")
        return original(path, obj)

    monkeypatch.setattr(retrieval, "atomic_write_json", crash_on_marker)
    smaller = retrieval.Retriever.from_vectors(retriever.chunks[:2], retriever.vectors[:2], embedder,
                                               retriever.chunk_config, retriever.index_config)
    with pytest.raises(OSError):
        smaller.save(folder, docs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]  # no temporary folder left behind
    assert np.array_equal(np.load(folder / "vectors.npy"), before)
    assert len(retrieval.Retriever.load(folder, embedder).chunks) == len(retriever.chunks)
    monkeypatch.setattr(retrieval, "atomic_write_json", original)
    smaller.save(folder, docs)
    assert len(retrieval.Retriever.load(folder, embedder).chunks) == 2
