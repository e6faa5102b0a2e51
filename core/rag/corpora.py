"""Sample corpora and Q&A sets: discovery and loading.

A corpus is a folder with documents, an optional ``qa.jsonl`` and a
``corpus.json`` (title, description, whether the built-in model reads it).
World corpora keep their documents under ``docs/``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import DatasetError

SAMPLE_ROOT = Path(__file__).resolve().parents[2] / "sample_data"


@dataclass(frozen=True)
class CorpusInfo:
    name: str  # folder name, e.g. "prose_flower_shop"
    path: Path
    title: str
    description: str = ""
    builtin_model_reads: bool = False  # True for world corpora written in the tiny model's world
    kind: str = "prose"

    @property
    def docs_path(self) -> Path:
        return self.path / "docs" if (self.path / "docs").is_dir() else self.path

    @property
    def qa_path(self) -> Path | None:
        path = self.path / "qa.jsonl"
        return path if path.exists() else None


def list_corpora(root: Path = SAMPLE_ROOT) -> list[CorpusInfo]:
    """Every folder under ``root`` that has a ``corpus.json``, sorted by name."""
    out = []
    for meta_path in sorted(Path(root).glob("*/corpus.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        out.append(CorpusInfo(
            name=meta_path.parent.name,
            path=meta_path.parent,
            title=meta.get("title", meta_path.parent.name),
            description=meta.get("description", ""),
            builtin_model_reads=bool(meta.get("builtin_model_reads", False)),
            kind=meta.get("kind", "world" if meta.get("builtin_model_reads") else "prose"),
        ))
    return out


def builtin_model_reads_paths(paths) -> bool:
    """Whether every path lies in a 🧪 world corpus: a folder (the path itself or up to two levels above it)
    whose ``corpus.json`` says ``builtin_model_reads``. Anything else is prose the built-in model cannot read.
    """
    def reads(path: Path) -> bool:
        path = Path(path).resolve()
        for folder in [path, *path.parents][:3]:
            meta = folder / "corpus.json"
            if meta.is_file():
                try:
                    return bool(json.loads(meta.read_text(encoding="utf-8")).get("builtin_model_reads"))
                except (OSError, ValueError):
                    return False
        return False

    paths = list(paths)
    return bool(paths) and all(reads(p) for p in paths)


def get_corpus(name: str, root: Path = SAMPLE_ROOT) -> CorpusInfo:
    for corpus in list_corpora(root):
        if corpus.name == name:
            return corpus
    raise DatasetError(f"There is no sample corpus named {name!r}.")


@dataclass(frozen=True)
class QAItem:
    question: str
    answer: str
    value: str = ""  # the short fact; containment of this is the accuracy test
    paraphrases: tuple[str, ...] = ()
    supporting_text: str = ""
    document: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def target(self) -> str:
        """What a correct answer must contain: ``value`` when known, else the answer."""
        return self.value or self.answer


def check_row_count(name: str, n_rows: int) -> None:
    """DatasetError when a Q&A set has more rows than the server allows (each row is tokenised, trained, asked)."""
    from core.runtime.limits import limits, raise_hint

    most = limits().qa_rows
    if n_rows > most:
        raise DatasetError(f"{name} has {n_rows:,} rows; the limit is {most:,} per Q&A set. "
                           f"Keep the rows you need most. {raise_hint('qa_rows')}")


def parse_qa(name: str, data: bytes) -> list[QAItem]:
    """Parse a Q&A file (JSONL, JSON list or CSV) with at least ``question`` and ``answer``."""
    text = data.decode("utf-8-sig", errors="replace")
    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".csv":
            rows = list(csv.DictReader(io.StringIO(text)))
        elif suffix == ".json":
            rows = json.loads(text)
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except (json.JSONDecodeError, csv.Error) as exc:
        raise DatasetError(f"{name} is not valid {suffix.lstrip('.') or 'JSONL'}: {exc}") from exc
    if isinstance(rows, dict):  # one JSON object instead of a list of them
        rows = [rows]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise DatasetError(f"{name} must hold Q&A rows (objects with 'question' and 'answer'), one per line or in a list.")
    if not rows:
        raise DatasetError(f"{name} has no rows.")
    check_row_count(name, len(rows))
    missing = {"question", "answer"} - set(rows[0])
    if missing:
        raise DatasetError(
            f"{name} is missing the column(s) {', '.join(sorted(missing))}; "
            f"it has {', '.join(map(str, rows[0])) or 'none'}. A Q&A file needs 'question' and 'answer'."
        )
    for number, row in enumerate(rows, start=1):
        _check_row_types(name, number, row)
    items = []
    for row in rows:
        question, answer = str(row.get("question") or "").strip(), str(row.get("answer") or "").strip()
        if not question or not answer:
            continue
        paraphrases = row.get("paraphrases") or ()
        if isinstance(paraphrases, str):
            paraphrases = [p.strip() for p in paraphrases.split("|") if p.strip()]
        known = {"question", "answer", "value", "paraphrases", "supporting_text", "document"}
        items.append(QAItem(
            question, answer, str(row.get("value") or ""), tuple(paraphrases),
            str(row.get("supporting_text") or ""), str(row.get("document") or ""),
            {k: v for k, v in row.items() if k not in known},
        ))
    if not items:
        raise DatasetError(f"{name} has no row with both a question and an answer.")
    return items


TEXT_FIELDS = ("question", "answer", "value", "supporting_text", "document")


def _check_row_types(name: str, number: int, row: dict) -> None:
    """Text fields hold text (or nothing); a number or a list where text belongs is refused, not str()-ed."""
    kinds = {int: "a number", float: "a number", bool: "true/false", list: "a list", dict: "an object"}
    for key in TEXT_FIELDS:
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            raise DatasetError(f"{name} row {number}: '{key}' must be text, not {kinds.get(type(value), 'a value')} "
                               f"({json.dumps(value)[:40]}). Put it in quotes.")
    paraphrases = row.get("paraphrases")
    if paraphrases is not None and not isinstance(paraphrases, str) and not (
            isinstance(paraphrases, list) and all(isinstance(p, str) for p in paraphrases)):
        raise DatasetError(f"{name} row {number}: 'paraphrases' must be a list of texts or one text with '|' between them.")


def load_qa(path: str | Path) -> list[QAItem]:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path} does not exist.")
    return parse_qa(path.name, path.read_bytes())
