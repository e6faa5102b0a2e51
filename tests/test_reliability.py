"""Bad inputs, one test each: every bad input is a typed error (CLI exit 2, one line) or works.

Chunk size 1 and stop-word-only documents through the CLI; UTF-16/UTF-8-BOM/cp1252 text; infinite,
NaN and huge training and decoding settings; Q&A files with numbers or lists where text belongs.
"""

from __future__ import annotations

import json
import math

import pytest

from core.answering import Decoding
from core.rag.corpora import parse_qa
from core.rag.documents import ENCODING_LABELS, load_bytes
from core.errors import ConfigError, CorruptDocument, DatasetError
from core.finetune import MAX_STEPS, FinetuneConfig
from tests.helpers import DOCUMENTS, FLOWER, cli, in_process, start, upload

pytestmark = pytest.mark.usefixtures("fresh_embedding_cache")  # counts what gets embedded

TEXT = "Crème brûlée costs €5 at the greenhouse café.\n\nThe key is under the blue pot."


def one_line_error(out, words: str) -> None:
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in out.stderr, out.stderr


# --- text encodings ----------------------------------------------------------------

@pytest.mark.parametrize("encoding, data", [
    ("utf-8", TEXT.encode("utf-8")),
    ("utf-8-sig", TEXT.encode("utf-8-sig")),
    ("utf-16-le", b"\xff\xfe" + TEXT.encode("utf-16-le")),
    ("utf-16-be", b"\xfe\xff" + TEXT.encode("utf-16-be")),
    ("cp1252", TEXT.encode("cp1252")),
])
def test_text_encodings_are_detected_and_read(encoding, data):
    doc = load_bytes("menu.txt", data)
    assert doc.text == TEXT and doc.metadata["encoding"] == encoding
    assert encoding in ENCODING_LABELS
    assert ("warning" in doc.metadata) == (encoding == "cp1252")  # only the guess is flagged


@pytest.mark.parametrize("data", [bytes(range(256)) * 20, b"\xff\xfe" + bytes(range(256)) * 20,
                                  b"\xff\xfe" + b"\x01\x00" * 400])
def test_binary_is_still_refused_even_behind_a_bom(data):
    with pytest.raises(CorruptDocument):
        load_bytes("photo.txt", data)


# --- training and decoding bounds --------------------------------------------------

@pytest.mark.parametrize("field, value, words", [
    ("alpha", math.inf, "alpha must be a finite number"),
    ("alpha", math.nan, "alpha must be a finite number"),
    ("alpha", 1e9, "alpha must be greater than 0 and at most 4096"),
    ("learning_rate", math.inf, "learning_rate must be a finite number"),
    ("dropout", math.nan, "dropout must be a finite number"),
    ("max_steps", 2_000_000_000, f"max_steps must be 0 (use epochs) or at most {MAX_STEPS:,}"),
    ("epochs", 10**7, "epochs must be between 0 and 1,000"),
    ("rank", 8.5, "rank must be a whole number"),
    ("rank", True, "rank must be a whole number"),
    ("batch_size", 10**6, "batch_size must be between 1 and 4096"),
    ("seed", -1, "seed must be between 0"),
    ("eval_every", 10**9, "eval_every must be between 1"),
    ("max_eval_questions", 0, "max_eval_questions must be between 1"),
    ("open_book_mix", math.inf, "open_book_mix must be a finite number"),
])
def test_finetune_config_refuses_unbounded_values(field, value, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        FinetuneConfig(**{field: value})


@pytest.mark.parametrize("field, value, words", [
    ("temperature", math.inf, "temperature must be a finite number"),
    ("temperature", math.nan, "temperature must be a finite number"),
    ("temperature", 6.0, "temperature must be between 0 and 5"),
    ("top_p", math.nan, "top_p must be a finite number"),
    ("top_p", 0.0, "top_p must be greater than 0"),
    ("max_new_tokens", 10**9, "max_new_tokens must be between 1 and 512"),
    ("max_new_tokens", 4.5, "max_new_tokens must be a whole number"),
    ("top_k", -1, "top_k must be 0"),
])
def test_decoding_refuses_unbounded_values(field, value, words):
    with pytest.raises(ConfigError, match=words):
        Decoding(**{field: value})


@pytest.mark.parametrize("flags, words", [
    (["--alpha", "inf"], "alpha must be a finite number (got inf)"),
    (["--alpha", "nan"], "alpha must be a finite number (got nan)"),
    (["--steps", "2000000000"], "max_steps must be 0 (use epochs) or at most 100,000"),
    (["--lr", "inf"], "learning_rate must be a finite number"),
    (["--epochs", "99999999"], "epochs must be between 0 and 1,000"),
])
def test_cli_finetune_bounds_exit_2_with_one_line(tmp_path, flags, words, capsys):
    qa = FLOWER / "qa.jsonl"
    one_line_error(in_process(capsys, "finetune", "--qa", str(qa), "--out", str(tmp_path / "run"), *flags, check=False),
                   words)
    assert not (tmp_path / "run").exists()


# --- Q&A files with the wrong types --------------------------------------------------

@pytest.mark.parametrize("row, words", [
    ({"question": "When?", "answer": 42}, "row 1: 'answer' must be text, not a number (42)"),
    ({"question": ["When?"], "answer": "Now"}, "row 1: 'question' must be text, not a list"),
    ({"question": "When?", "answer": "Now", "value": {"a": 1}}, "'value' must be text, not an object"),
    ({"question": "When?", "answer": True}, "'answer' must be text, not true/false"),
    ({"question": "When?", "answer": "Now", "paraphrases": [1, 2]}, "'paraphrases' must be a list of texts"),
])
def test_qa_rows_with_non_text_fields_are_refused(row, words):
    with pytest.raises(DatasetError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_qa("qa.jsonl", (json.dumps({"question": "Ok?", "answer": "Yes"}) + "\n" + json.dumps(row)).encode()
                 if "row 1" not in words else json.dumps(row).encode())


def test_qa_rows_with_nulls_and_text_still_load():
    items = parse_qa("qa.jsonl", b'{"question": "When?", "answer": "Now", "value": null, "paraphrases": ["At what time?"]}')
    assert items[0].answer == "Now" and items[0].paraphrases == ("At what time?",)


def test_cli_finetune_refuses_a_qa_file_with_numbers(tmp_path, capsys):
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"question": "How many?", "answer": 3}) + "\n")
    one_line_error(in_process(capsys, "finetune", "--qa", str(qa), "--out", str(tmp_path / "run"), check=False),
                   "'answer' must be text, not a number")


# --- retrieval edges through the CLI -------------------------------------------------

@pytest.mark.slow
def test_cli_search_with_chunk_size_1_and_a_stop_word_document(tmp_path):
    """Both crashed with ``ValueError: max() arg is an empty sequence`` (BM25 with no terms)."""
    stop = tmp_path / "stop.txt"
    stop.write_text("the and of to a in")
    rows = json.loads(cli("search", "--docs", str(stop), "--query", "the", "--json", "--no-cache").stdout)
    assert [r["text"] for r in rows] == ["the and of to a in"]
    rows = json.loads(cli("search", "--docs", str(FLOWER / "faq.md"), "--query", "delivery cost",
                          "--chunk-size", "1", "--overlap", "0", "-k", "3", "--json", "--no-cache").stdout)
    assert len(rows) == 3 and all(r["text"].strip() for r in rows)
    one_line_error(cli("search", "--docs", str(stop), "--query", "x", "--chunk-size", "0", check=False),
                   "chunk size must be greater than 0 (got 0)")


def test_documents_page_says_which_encoding():
    files = {"notepad.txt": b"\xff\xfe" + TEXT.encode("utf-16-le"), "bom.md": TEXT.encode("utf-8-sig"),
             "old.txt": TEXT.encode("cp1252")}
    at = upload(start("encodings", DOCUMENTS, corpus="uploads"), files)
    table = at.dataframe[0].value.set_index("file")
    assert table["encoding"].to_dict() == {"bom.md": "UTF-8 with BOM", "notepad.txt": "UTF-16 LE", "old.txt": "Windows-1252"}
    assert not at.error and table["status"]["notepad.txt"] == "✅ read"
