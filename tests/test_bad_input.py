"""Bad input, case by case: a typed error in core and a plain message in the page, never a crash.

Each table drives two tests: one calls ``core`` directly and checks the error type and message; one drives
the page through the entrypoint (``AppTest.from_file("app.py")`` in a named session) and checks that the
same words appear in an error or warning box and that nothing raised. Cases already covered in
``tests/core/rag/test_documents.py`` on the core side (the 200 MB sparse file, unsupported types) are only driven
through the page here.
"""

from __future__ import annotations

import functools
import json
import tomllib

import pytest
from streamlit.testing.v1 import AppTest

from core import errors
from core.rag.chunking import ChunkConfig
from core.rag.documents import MAX_BYTES, load_bytes
from core.finetune import FinetuneConfig, load_adapter
from core.finetune.data import read_qa_upload
from core.llm.loading import load_generator
from core.rag.retrieval import Retriever, check_query
from tests.helpers import ROOT
from tests.helpers import ANSWERS, DOCUMENTS, EMBEDDINGS, FINETUNE, MODEL, NOTE, RETRIEVAL, boxes, make_docx, make_pdf, start, upload, zip_bomb

pytestmark = pytest.mark.usefixtures("fresh_embedding_cache")  # counts what gets embedded

TIMEOUT = 240


def with_uploads(sid: str, page: str, files: dict[str, bytes], **state) -> AppTest:
    """Upload ``files`` on the Documents page, then open ``page`` in the same session."""
    at = upload(start(sid, DOCUMENTS, corpus="uploads", **state), files)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- files -----------------------------------------------------------------------------

FILES = [  # (file name, bytes, typed error, words the message must hold)
    ("empty.txt", lambda: b"", errors.EmptyDocument, "is empty"),
    ("spaces.txt", lambda: b"   \n\t  \n\n ", errors.EmptyDocument, "is empty"),
    ("photo.txt", lambda: bytes(range(256)) * 20, errors.CorruptDocument, "looks like a binary file"),
    ("locked.pdf", lambda: make_pdf(["Secret plans"], password="pw"), errors.EncryptedDocument, "password"),
    ("scan.pdf", lambda: make_pdf(["", ""]), errors.NoExtractableText, "no text layer"),
    ("bomb.docx", zip_bomb, errors.CorruptDocument, "zip bomb"),
    ("corrupt.docx", lambda: b"PK\x03\x04" + b"\0" * 100, errors.CorruptDocument, "not a valid Word document"),
    ("cut.docx", lambda: make_docx(["Leave is 25 days."])[:900], errors.CorruptDocument, "Word document"),
    ("only-script.html", lambda: b"<script>window.__xss=1</script><img src=x onerror=alert(1)>",
     errors.EmptyDocument, "no text"),
]
IDS = [f[0] for f in FILES]


@pytest.mark.parametrize("name, make, error, words", FILES, ids=IDS)
def test_bad_file_raises_typed_error(name, make, error, words):
    with pytest.raises(error) as info:
        load_bytes(name, make())
    assert words in str(info.value) and name in str(info.value)
    assert isinstance(info.value, errors.DocumentError)


@pytest.mark.parametrize("name, make, error, words", FILES, ids=IDS)
def test_bad_file_upload_shows_the_message(name, make, error, words):
    at = upload(start("badfile", DOCUMENTS, corpus="uploads"), {name: make()})
    shown = boxes(at, "error")
    assert any(words in text and name in text for text in shown), shown
    assert at.dataframe[0].value.set_index("file")["status"][name].startswith("❌")
    assert any("No documents yet" in text for text in boxes(at, "info"))  # the page goes on, empty


def test_a_bad_file_does_not_block_the_good_ones():
    at = upload(start("mixed", DOCUMENTS, corpus="uploads"), {"notes.txt": NOTE, "photo.txt": bytes(range(256)) * 20})
    assert any("photo.txt looks like a binary file" in text for text in boxes(at, "error"))
    assert at.metric[0].value == "1"  # one document read and chunked
    assert at.get("html")  # its chunks are painted


def test_non_utf8_text_is_read_with_a_warning():
    text = "Crème brûlée costs €5 at the greenhouse café."
    assert load_bytes("menu.txt", text.encode("cp1252")).metadata["encoding"] == "cp1252"
    at = upload(start("latin", DOCUMENTS, corpus="uploads"), {"menu.txt": text.encode("cp1252")})
    assert any("menu.txt is not UTF-8" in w for w in boxes(at, "warning")), boxes(at, "warning")
    assert not at.error


def test_html_payloads_are_dropped_and_the_rest_is_read():
    page = (b"<html><body><h1>Opening hours</h1><p>We open at 9am.</p><script>window.__xss=1</script>"
            b"<img src=x onerror=\"window.__xss=1\"><p>&lt;b&gt;bold-marker&lt;/b&gt;</p></body></html>")
    doc = load_bytes("page.html", page)
    assert "We open at 9am." in doc.text and "__xss" not in doc.text and "onerror" not in doc.text
    at = upload(start("html", DOCUMENTS, corpus="uploads"), {"page.html": page})
    assert not at.error and at.metric[0].value == "1"
    painted = at.get("html")[1].proto.body
    assert "&lt;b&gt;bold-marker&lt;/b&gt;" in painted and "<b>bold-marker" not in painted


def test_upload_above_the_limit_is_refused(monkeypatch):
    """200 MB never travels through a test: the browser refuses above ``server.maxUploadSize``, and the
    core check (tested with a 200 MB sparse file in test_documents) is the same one the page calls."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_BYTES  # browser and core agree: 50 MB
    import ui.resources

    monkeypatch.setattr(ui.resources, "load_bytes", functools.partial(load_bytes, max_bytes=1024))
    at = upload(start("big", DOCUMENTS, corpus="uploads"), {"big.txt": b"word " * 1000})
    assert any("big.txt is 0.0 MB; the limit is 0.0 MB" in e for e in boxes(at, "error")), boxes(at, "error")
    with pytest.raises(errors.FileTooLarge, match="limit"):
        load_bytes("big.txt", b"word " * 1000, max_bytes=1024)


# --- chunking, k, empty corpus, questions ----------------------------------------------------

@pytest.mark.parametrize("size, overlap, words", [
    (0, 0, "chunk size must be greater than 0"),
    (100, 100, "overlap must be at least 0 and smaller than the chunk size"),
    (100, 250, "overlap must be at least 0 and smaller than the chunk size"),
], ids=["size-0", "overlap-equal", "overlap-bigger"])
def test_bad_chunk_settings(size, overlap, words):
    with pytest.raises(errors.ConfigError, match=words):
        ChunkConfig("recursive", size, overlap)
    at = upload(start(f"chunk{size}x{overlap}", DOCUMENTS, corpus="uploads"), {"notes.txt": NOTE})
    before = at.session_state["chunk_config"]
    at.number_input(key="doc_overlap").set_value(overlap)
    at.number_input(key="doc_size").set_value(size)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if size == 0:  # the widget cannot hold 0 (its minimum is 1): it falls back to the session's size, still valid
        assert at.number_input(key="doc_size").min == 1 and at.number_input(key="doc_size").value == before.size
        assert not at.error and at.session_state["chunk_config"].size == before.size
        return
    assert any(words in e for e in boxes(at, "error")), boxes(at, "error")
    assert at.session_state["chunk_config"] == before  # the other pages keep the last good settings


def test_k_larger_than_the_corpus(embedder):
    from core.rag.documents import load_bytes as load

    retriever = Retriever.build([load("notes.txt", NOTE)], embedder)
    n = len(retriever.chunks)
    for mode in ("dense", "bm25", "hybrid"):
        assert len(retriever.search("Where is the key?", k=50, mode=mode)) == n
    with pytest.raises(errors.ConfigError, match="k must be at least 1"):
        retriever.search("Where is the key?", k=0)
    at = with_uploads("bigk", RETRIEVAL, {"notes.txt": NOTE})
    at.slider(key="ret_k").set_value(20)
    at.text_input(key="ret_query").set_value("Where is the key?")
    at.run()
    assert not at.exception and not at.error
    assert any(f"only {n} chunks, so k is {n}, not 20" in c.value for c in at.caption)


@pytest.mark.parametrize("page", [EMBEDDINGS, RETRIEVAL, ANSWERS])
def test_a_corpus_with_zero_chunks(embedder, page, tiny_model):
    with pytest.raises(errors.EmptyCorpus, match="zero chunks"):
        Retriever.build([], embedder)
    at = start("nochunks", page, corpus="uploads", generator_name=tiny_model)
    assert any("There are no documents" in text for text in boxes(at, "info", "warning", "error"))


@pytest.mark.parametrize("question, words", [
    ("   ", "The question is empty"),
    ("why? " * 10_000, "50,000 characters long; the limit is 2,000"),
], ids=["empty", "50k-characters"])
def test_bad_questions(question, words):
    with pytest.raises(errors.InvalidQuery, match=words):
        check_query(question)
    for page, key in ((RETRIEVAL, "ret_query"), (EMBEDDINGS, "emb_query")):
        at = with_uploads(f"q{len(question)}", page, {"notes.txt": NOTE})
        at.text_input(key=key).set_value(question)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        shown = boxes(at, "warning", "info", "caption")  # an empty question gets a hint, not an error
        expected = words if question.strip() else "Type a question"
        assert any(expected in text for text in shown), (page, shown)


def test_a_50k_question_on_the_answers_page(tiny_model):
    at = with_uploads("answers50k", ANSWERS, {"notes.txt": NOTE}, generator_name=tiny_model)
    at.text_input(key="ans_question").set_value("why? " * 10_000).run()
    at.button(key="ans_ask").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("50,000 characters long" in e for e in boxes(at, "error")), boxes(at, "error")


# --- fine-tuning -------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, words", [
    ("rank", 0, "rank must be between 1 and 256"),
    ("rank", 4096, "rank must be between 1 and 256"),
    ("learning_rate", 0.0, "learning_rate must be greater than 0 and at most 1"),
    ("learning_rate", 10.0, "learning_rate must be greater than 0 and at most 1"),
])
def test_bad_lora_settings(field, value, words):
    with pytest.raises(errors.ConfigError, match=words):
        FinetuneConfig(**{field: value})


def test_finetune_page_offers_only_valid_rank_and_learning_rate(tiny_model):
    """The page cannot even express rank 0/4096 or lr 0/10: its sliders list valid values only."""
    at = start("ranks", FINETUNE, generator_name=tiny_model)
    ranks = [int(r) for r in at.select_slider(key="ft_rank").options]
    assert min(ranks) >= 1 and max(ranks) <= 256
    lr = next(s for s in at.select_slider if (s.key or "").startswith("ft_lr_"))
    assert all(0 < float(x) <= 1 for x in lr.options)
    at.multiselect(key="ft_targets").set_value([]).run()  # the one invalid LoRA setting it can express
    assert any("target_modules must name at least one layer" in e for e in boxes(at, "error"))
    assert at.button(key="ft_start").disabled


QA_FILES = [
    ("qa.csv", b"question,reply\nWhen does it open?,At nine\n", "missing the column(s) answer"),
    ("qa.csv", b"", "has no rows"),
    ("qa.jsonl", b'{"question": "When?"\n', "is not valid jsonl"),
    ("qa.csv", b"question,answer\n,\n , \n", "no row with both a question and an answer"),
]


@pytest.mark.parametrize("name, data, words", QA_FILES, ids=["missing-column", "empty", "bad-json", "blank-rows"])
def test_bad_qa_file(name, data, words, tiny_model):
    with pytest.raises(errors.DatasetError, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_qa_upload(name, data)
    at = start("qa", FINETUNE, generator_name=tiny_model)
    at.radio(key="ft_source").set_value("upload").run()
    at.file_uploader(key="ft_upload").set_value((name, data, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(words in e for e in boxes(at, "error")), boxes(at, "error")
    assert at.button(key="ft_start").disabled


@pytest.mark.parametrize("data", [b'[1, 2]', b"5"], ids=["list-of-numbers", "number"])
def test_qa_json_that_is_not_a_list(data):
    with pytest.raises(errors.DatasetError, match="must hold Q&A rows"):
        read_qa_upload("qa.json", data)


def test_qa_json_single_object_is_one_row():
    assert [q.answer for q in read_qa_upload("qa.json", b'{"question": "When?", "answer": "At nine."}')] == ["At nine."]


def broken_adapter(folder):
    """A run folder that says "done" but whose weights are garbage (a crash mid-copy, a bad download)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps({"status": "done", "started_at": 1.0, "config": {"rank": 8}}))
    (folder / "adapter_config.json").write_text("{ this is not json")
    (folder / "adapter_model.safetensors").write_bytes(b"\x00garbage" * 10)
    return folder


def test_corrupt_adapter_folder(tmp_path, tiny_model):
    base = load_generator(tiny_model)
    with pytest.raises(errors.AdapterError, match="could not be loaded"):
        load_adapter(base, broken_adapter(tmp_path / "broken"))
    (tmp_path / "half").mkdir()
    with pytest.raises(errors.AdapterError, match="no saved weights"):
        load_adapter(base, tmp_path / "half")
    with pytest.raises(errors.AdapterError, match="no adapter folder"):
        load_adapter(base, tmp_path / "missing")

    from core.runtime.workspace import Workspace, default_root

    broken_adapter(Workspace(default_root()).session("adapters").path("adapters", "broken-run"))
    at = with_uploads("adapters", ANSWERS, {"notes.txt": NOTE}, generator_name=tiny_model)
    assert any("broken-run could not be loaded" in e for e in boxes(at, "error")), boxes(at, "error")


# --- models --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, words", [
    ("no-such-org/no-such-model-4f2a", "offline mode is on"),
    ("/no/such/folder/model", "there is no model folder"),
])
def test_unknown_model_or_unreachable_hub(monkeypatch, name, words, tiny_model):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(errors.ModelUnavailable, match=words):
        load_generator(name, cache=False)
    at = start("model", MODEL, generator_name=tiny_model)
    at.text_input(key="model_name_input").set_value(name)
    next(b for b in at.button if b.label == "Load model").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(words in e and "stays loaded" in e for e in boxes(at, "error")), boxes(at, "error")
    assert at.session_state["generator_name"] == tiny_model


def test_unknown_embedder(monkeypatch):
    from core.rag.embedding import load_embedder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(errors.ModelUnavailable):
        load_embedder("no-such-org/no-such-embedder-4f2a")
