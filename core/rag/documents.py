"""Turn files (txt, md, pdf, docx, html) into ``Document`` objects.

Every failure a user can cause raises a typed ``DocumentError`` whose message
says what is wrong in plain words, so the UI can show it as-is.

Libraries: pypdf (pure Python PDF text extraction, handles encryption flags),
python-docx (reads paragraphs and tables in body order), BeautifulSoup with
the stdlib ``html.parser`` (a real HTML parser; scripts and styles dropped).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from core.errors import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    FileTooLarge,
    NoExtractableText,
    UnsupportedType,
)
from core.runtime.limits import limits, raise_hint
from core.runtime.workspace import content_hash

SUPPORTED = (".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm")
MAX_BYTES = 50 * 1024 * 1024  # default upload limit; the UI's limit comes from .streamlit/config.toml
MAX_UNZIPPED = 200 * 1024 * 1024  # a DOCX that inflates past this is treated as a zip bomb
MAX_RATIO = 200  # … as is one whose members inflate more than 200×


@dataclass(frozen=True)
class Document:
    """One loaded file. ``text`` is what chunk offsets point into."""

    id: str
    name: str
    text: str
    metadata: dict = field(default_factory=dict, compare=False, hash=False)


def load_bytes(name: str, data: bytes, max_bytes: int = MAX_BYTES) -> Document:
    """Load one file given its name (for the type) and raw bytes.

    >>> load_bytes("a.txt", b"Hello").text
    'Hello'
    """
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise UnsupportedType(
            f"{name}: files of type '{suffix or 'without extension'}' are not supported. "
            f"Use one of: {', '.join(SUPPORTED)}."
        )
    if len(data) > max_bytes:
        raise FileTooLarge(f"{name} is {_mb(len(data))}; the limit is {_mb(max_bytes)}. Split it into smaller files.")
    if not data.strip():
        raise EmptyDocument(f"{name} is empty (or holds only whitespace): there is nothing to read.")
    bounds = limits()
    if suffix in (".html", ".htm") and data.count(b"<") > bounds.html_tags:
        raise FileTooLarge(f"{name} has about {data.count(b'<'):,} tags; the limit is {bounds.html_tags:,} per HTML "
                           f"file. Split it into smaller pages. {raise_hint('html_tags')}")
    reader = _READERS[suffix]
    text, meta = reader(name, data)
    text = _normalise_newlines(text)
    if not text.strip():
        raise EmptyDocument(f"{name} contains no text once its markup is removed.")
    if len(text) > bounds.document_chars:
        raise FileTooLarge(f"{name} holds {len(text):,} characters of text; the limit is {bounds.document_chars:,} "
                           f"per document. Split it into smaller files. {raise_hint('document_chars')}")
    meta = {"type": suffix.lstrip("."), "bytes": len(data), "characters": len(text), **meta}
    return Document(id=content_hash(name, text)[:12], name=Path(name).name, text=text, metadata=meta)


def load_path(path: str | Path, max_bytes: int = MAX_BYTES) -> Document:
    path = Path(path)
    if not path.is_file():
        raise UnsupportedType(f"{path} is not a file.")
    size = path.stat().st_size
    if size > max_bytes:  # check before reading a huge file into memory
        raise FileTooLarge(f"{path.name} is {_mb(size)}; the limit is {_mb(max_bytes)}. Split it into smaller files.")
    return load_bytes(path.name, path.read_bytes(), max_bytes)


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.1f} MB"


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, plus every supported file under given folders (sorted, recursive)."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED and not any(s.startswith(".") for s in p.parts)
            )
        elif path.exists():
            out.append(path)
        else:
            raise UnsupportedType(f"{path} does not exist.")
    return out


def load_paths(paths: Iterable[str | Path], max_bytes: int = MAX_BYTES) -> list[Document]:
    """Load files and folders; an explicitly named bad file raises, as a user would expect."""
    return [load_path(p, max_bytes) for p in expand_paths(paths)]


# --- readers: (name, bytes) -> (text, metadata) ------------------------------

# Byte-order marks, longest first (a UTF-32 LE mark starts with UTF-16 LE's). Windows tools write
# UTF-16 with a BOM ("Unicode" in Notepad); its zero bytes must not look like a binary file.
BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE",
                   "utf-32-le": "UTF-32 LE", "utf-32-be": "UTF-32 BE", "cp1252": "Windows-1252", "latin-1": "Latin-1"}


def _read_text(name: str, data: bytes) -> tuple[str, dict]:
    """Decode text: a BOM decides; otherwise UTF-8, then cp1252, then latin-1 (with a warning)."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _decode_bom(name, data[len(bom):], encoding), {"encoding": encoding}
    if b"\x00" in data[:8192] or _control_ratio(data[:8192]) > 0.1:
        raise CorruptDocument(f"{name} looks like a binary file, not text. Was it renamed to .txt?")
    for encoding in ("utf-8", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8":
            return text, {"encoding": encoding}
        return text, {"encoding": encoding, "warning": f"{name} is not UTF-8; it was read as {encoding}."}
    text = data.decode("latin-1")
    return text, {"encoding": "latin-1", "warning": f"{name} is not UTF-8; it was read as latin-1."}


def _decode_bom(name: str, body: bytes, encoding: str) -> str:
    label = ENCODING_LABELS[encoding]
    try:
        text = body.decode(encoding.removesuffix("-sig"))
    except UnicodeDecodeError as exc:
        raise CorruptDocument(f"{name} starts like {label} text but is damaged at byte {exc.start:,}.") from exc
    sample = text[:4096]
    if sample and sum(ch < " " and ch not in "\t\n\r\f" for ch in sample) / len(sample) > 0.1:
        raise CorruptDocument(f"{name} looks like a binary file, not text. Was it renamed to .txt?")
    return text


def _control_ratio(sample: bytes) -> float:
    if not sample:
        return 0.0
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(sample)


def _read_html(name: str, data: bytes) -> tuple[str, dict]:
    from bs4 import BeautifulSoup

    raw, meta = _read_text(name, data)
    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "embed"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    text = _html_text(soup)
    return text, {**meta, "title": title}


HTML_BLOCKS = ("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
               "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
               "pre", "section", "table", "title", "tr", "ul")


def _html_text(soup) -> str:
    """The page's text as a browser lays it out: block elements on their own lines, inline tags
    (``<b>``, ``<a>``, ``<span>`` …) inside the sentence, source line breaks as spaces (except in ``<pre>``).

    >>> from bs4 import BeautifulSoup
    >>> _html_text(BeautifulSoup("<p>The <b>Spring\\n Ride</b> leaves.</p><p>Next</p>", "html.parser"))
    'The Spring Ride leaves.\\n\\nNext'
    """
    from bs4 import CData, NavigableString, Tag

    # One iterative walk (no tree edits: bs4's insert_after is linear per call, so quadratic on deep nesting,
    # and recursion would overflow on 20,000 nested <div>s). \x01 = paragraph break, \x00 = line break.
    pieces: list[str] = []
    todo: list = [(soup, False)]  # (node, inside <pre>), or (None, text to emit after a tag's children)
    while todo:
        node, state = todo.pop()
        if node is None:
            pieces.append(state)
        elif isinstance(node, Tag):
            mark = "\x01" if node.name == "p" else "\x00" if node.name in HTML_BLOCKS else ""
            pieces.append(mark)
            after = mark or (" " if node.name in ("td", "th") else "")
            if after:
                todo.append((None, after))
            inner = state or node.name == "pre"
            todo.extend((child, inner) for child in reversed(node.contents))
        elif type(node) is NavigableString:
            pieces.append(str(node) if state else re.sub(r"\s+", " ", str(node)))
        elif type(node) is CData:
            pieces.append(str(node))
    text = re.sub(r"[ \t]*[\x00\x01][\s\x00\x01]*", lambda m: "\n\n" if "\x01" in m.group() else "\n", "".join(pieces))
    return re.sub(r"[ \t]+\n", "\n", text).strip()


def _read_pdf(name: str, data: bytes) -> tuple[str, dict]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedDocument(f"{name} is password-protected. Remove the password and upload it again.")
        # newlines normalised per page, here: the offsets below must index the text the Document keeps
        pages = [_normalise_newlines(page.extract_text() or "") for page in reader.pages]
    except EncryptedDocument:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise EncryptedDocument(f"{name} is encrypted and cannot be read.") from exc
        raise CorruptDocument(f"{name} is not a readable PDF ({exc.__class__.__name__}).") from exc
    if not "".join(pages).strip():
        raise NoExtractableText(
            f"{name} has {len(pages)} page(s) but no text layer (a scanned PDF?). "
            "Run OCR on it first, or upload the text."
        )
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 2
    return "\n\n".join(pages), {"pages": len(pages), "page_starts": starts}


def _read_docx(name: str, data: bytes) -> tuple[str, dict]:
    import docx

    _check_zip(name, data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for bad packages
        raise CorruptDocument(f"{name} is not a readable Word document ({exc.__class__.__name__}).") from exc
    blocks: list[str] = []
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):  # a table: one line per row, cells separated by " | "
            for row in block.rows:
                blocks.append(" | ".join(cell.text.strip() for cell in row.cells))
        elif block.text.strip():
            style = (block.style.name or "") if block.style is not None else ""
            level = style.removeprefix("Heading ").strip()
            prefix = "#" * int(level) + " " if style.startswith("Heading") and level.isdigit() else ""
            blocks.append(prefix + block.text)
    return "\n\n".join(blocks), {}


def _check_zip(name: str, data: bytes) -> None:
    """Refuse corrupt zips and zip bombs before any parser inflates them."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise CorruptDocument(f"{name} is not a valid Word document (it is not a zip package).")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise CorruptDocument(f"{name} is a damaged zip package.") from exc
    total = sum(i.file_size for i in infos)
    worst = max((i.file_size / max(i.compress_size, 1) for i in infos), default=0)
    if total > MAX_UNZIPPED or worst > MAX_RATIO:
        raise CorruptDocument(
            f"{name} would expand to {total / 1e6:.0f} MB (a zip bomb?); the Lab refuses to open it."
        )


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


_READERS = {
    ".txt": _read_text,
    ".md": _read_text,
    ".markdown": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}
