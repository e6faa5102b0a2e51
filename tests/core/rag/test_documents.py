"""Document loading: every format, and every bad input gets its typed error with a plain message."""

from __future__ import annotations


import pytest

from core import errors
from core.rag.documents import expand_paths, load_bytes, load_path
from tests.helpers import make_docx, make_pdf, zip_bomb


@pytest.mark.parametrize(
    "name, data, expected",
    [
        ("a.txt", b"Plain text file.", "Plain text file."),
        ("a.md", b"# Title\n\nBody text.", "# Title\n\nBody text."),
        ("a.txt", "Caf\u00e9 au lait".encode("utf-8"), "Caf\u00e9 au lait"),
        ("crlf.txt", b"line one\r\nline two", "line one\nline two"),
    ],
)
def test_text_formats(name, data, expected):
    doc = load_bytes(name, data)
    assert doc.text == expected
    assert doc.name == name
    assert doc.metadata["characters"] == len(expected)


def test_non_utf8_is_decoded_with_a_warning():
    doc = load_bytes("legacy.txt", "Cr\u00e8me br\u00fbl\u00e9e costs \u20ac5".encode("cp1252"))
    assert doc.text == "Cr\u00e8me br\u00fbl\u00e9e costs \u20ac5"
    assert doc.metadata["encoding"] == "cp1252"
    assert "not UTF-8" in doc.metadata["warning"]


def test_html_drops_scripts_styles_and_handlers():
    html = (b"<html><head><title>T</title><style>p{color:red}</style><script>alert('x')</script></head>"
            b"<body><h1>Opening hours</h1><p>We open at 9am.<img src=x onerror=alert(1)></p></body></html>")
    doc = load_bytes("page.html", html)
    assert "Opening hours" in doc.text and "We open at 9am." in doc.text
    assert "alert" not in doc.text and "color:red" not in doc.text and "onerror" not in doc.text
    assert doc.metadata["title"] == "T"


def test_pdf_page_offsets_hold_when_a_page_has_windows_line_breaks(monkeypatch):
    from pypdf import PageObject

    texts = iter(["Roses line one.\r\nRoses line two.\r\n", "Tulips page.\r\nMore tulips."])
    monkeypatch.setattr(PageObject, "extract_text", lambda self, *a, **k: next(texts))  # what some PDFs extract to
    doc = load_bytes("crlf.pdf", make_pdf(["one", "two"]))
    first, second = doc.metadata["page_starts"]
    assert "\r" not in doc.text and doc.text[first:].startswith("Roses")
    assert doc.text[second:].startswith("Tulips page.\nMore tulips.")


def test_pdf_pages_and_text():
    doc = load_bytes("two.pdf", make_pdf(["First page about roses.", "Second page about tulips."]))
    assert doc.metadata["pages"] == 2
    assert "roses" in doc.text and "tulips" in doc.text
    second = doc.metadata["page_starts"][1]
    assert "tulips" in doc.text[second:]


def test_docx_paragraphs_headings_and_tables():
    doc = load_bytes("h.docx", make_docx(["Annual leave is 25 days."], [["Item", "Limit"], ["Taxi", "$40"]]))
    assert "# Handbook" in doc.text
    assert "Annual leave is 25 days." in doc.text
    assert "Taxi | $40" in doc.text


BAD_INPUTS = [
    ("empty.txt", b"", errors.EmptyDocument, "empty"),
    ("spaces.md", b"   \n\t  \n", errors.EmptyDocument, "empty"),
    ("only-markup.html", b"<html><script>x()</script></html>", errors.EmptyDocument, "no text"),
    ("image.txt", bytes(range(256)) * 20, errors.CorruptDocument, "binary"),
    ("notes.xlsx", b"PK\x03\x04", errors.UnsupportedType, "not supported"),
    ("noext", b"hello", errors.UnsupportedType, "not supported"),
    ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", errors.CorruptDocument, "not a readable PDF"),
    ("fake.docx", b"this is plain text, not a zip", errors.CorruptDocument, "not a zip"),
    ("truncated.docx", b"PK\x03\x04" + b"\0" * 100, errors.CorruptDocument, "Word document"),
    ("bomb.docx", None, errors.CorruptDocument, "zip bomb"),
    ("locked.pdf", None, errors.EncryptedDocument, "password"),
    ("scan.pdf", None, errors.NoExtractableText, "no text layer"),
]


@pytest.mark.parametrize("name, data, error, phrase", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_raises_typed_error(name, data, error, phrase):
    if data is None:
        data = {"bomb.docx": zip_bomb, "locked.pdf": lambda: make_pdf(["Secret"], password="pw"),
                "scan.pdf": lambda: make_pdf(["", ""])}[name]()
    with pytest.raises(error) as info:
        load_bytes(name, data)
    assert phrase in str(info.value)
    assert name in str(info.value) or "type" in str(info.value)
    assert isinstance(info.value, errors.LabError)


def test_size_limit():
    with pytest.raises(errors.FileTooLarge, match="limit"):
        load_bytes("big.txt", b"a" * 2000, max_bytes=1000)


def test_size_limit_checked_before_reading(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:  # sparse: 200 MB on paper, nothing on disk
        handle.truncate(200 * 1024 * 1024)
    with pytest.raises(errors.FileTooLarge, match="200.0 MB"):
        load_path(path)


def test_expand_paths_walks_folders_and_skips_unsupported(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("A")
    (tmp_path / "b.txt").write_text("B")
    (tmp_path / "qa.jsonl").write_text("{}")
    (tmp_path / ".hidden.md").write_text("H")
    found = [p.name for p in expand_paths([tmp_path])]
    assert found == ["b.txt", "a.md"] or sorted(found) == ["a.md", "b.txt"]
    with pytest.raises(errors.UnsupportedType, match="does not exist"):
        expand_paths([tmp_path / "missing"])
