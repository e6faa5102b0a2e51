"""Split documents into chunks that keep their character offsets.

Offsets (``start``, ``end``) point into ``Document.text`` so the UI can paint
chunks and their overlaps over the original text.

Libraries: langchain-text-splitters does the "characters", "recursive" and
"markdown" strategies (well kept, battle-tested separator logic, and it takes
any length function, so sizes can be in embedder tokens). Its chunks are
located back in the text to recover offsets. "tokens" windows come straight
from the embedder tokenizer's offset mapping (exact offsets, no decode
round-trip). "sentences" and "semantic" pack regex-split sentences; semantic
splits where the cosine similarity of adjacent sentences drops.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np

from core.rag.documents import Document
from core.errors import ConfigError

MAX_SIZE = 100_000  # larger than any document the Lab reads in one chunk; caps runaway values
STRATEGIES = ("characters", "tokens", "sentences", "recursive", "markdown", "semantic")
UNITS = ("characters", "tokens")

EmbedFn = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class ChunkConfig:
    strategy: str = "recursive"  # keeps paragraphs whole when they fit: best MRR on the sample Q&A (README)
    size: int = 192  # in `unit`s; best of 64–192 on the sample Q&A, and below MiniLM's 256-token truncation
    overlap: int = 38  # 20%: a fact cut at a boundary is still found whole in the next chunk
    unit: str = "tokens"  # "tokens" = the embedder's tokens, so size maps to what the model sees
    semantic_percentile: float = 20.0  # semantic: split at the weakest 20% of adjacent-sentence links

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"unknown chunking strategy {self.strategy!r}; choose one of {', '.join(STRATEGIES)}")
        if self.unit not in UNITS:
            raise ConfigError(f"unknown unit {self.unit!r}; choose 'characters' or 'tokens'")
        for name in ("size", "overlap"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ConfigError(f"chunk {name} must be a whole number (got {value!r})")
        if self.size <= 0:
            raise ConfigError(f"chunk size must be greater than 0 (got {self.size})")
        if self.size > MAX_SIZE:
            raise ConfigError(f"chunk size must be at most {MAX_SIZE:,} (got {self.size:,})")
        if not 0 <= self.overlap < self.size:
            raise ConfigError(f"overlap must be at least 0 and smaller than the chunk size ({self.overlap} vs size {self.size})")
        if not isinstance(self.semantic_percentile, (int, float)) or not 0 < self.semantic_percentile < 100:
            raise ConfigError("semantic_percentile must be between 0 and 100")

        # The two fixed-size strategies define their own unit.
        if self.strategy in ("characters", "tokens"):
            object.__setattr__(self, "unit", self.strategy)

    def to_dict(self) -> dict:
        return asdict(self)


class TokenCounter:
    """Counts and locates tokens with a ``tokenizers.Tokenizer`` (no truncation, no padding).

    >>> from tokenizers import Tokenizer, models, pre_tokenizers
    >>> t = Tokenizer(models.WordLevel({"a": 0, "b": 1, "[UNK]": 2}, unk_token="[UNK]"))
    >>> t.pre_tokenizer = pre_tokenizers.Whitespace()
    >>> TokenCounter(t).count(["a b a", "b"])
    [3, 1]
    """

    def __init__(self, tokenizer) -> None:
        import copy

        backend = copy.deepcopy(getattr(tokenizer, "backend_tokenizer", tokenizer))
        backend.no_truncation()
        backend.no_padding()
        self._tok = backend

    def count(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        return self._tok.encode(text, add_special_tokens=False).offsets


@dataclass(frozen=True)
class Chunk:
    """A span of one document. ``text == document.text[start:end]``."""

    doc_id: str
    doc_name: str
    index: int  # position within its document
    start: int
    end: int
    text: str
    n_tokens: int


def chunk_documents(
    docs: Sequence[Document], config: ChunkConfig, tokens: TokenCounter, embed: EmbedFn | None = None
) -> list[Chunk]:
    """Chunk every document; ``tokens`` is the embedder's token counter (sizes and ``n_tokens``)."""
    return [c for doc in docs for c in chunk_document(doc, config, tokens, embed)]


def chunk_document(doc: Document, config: ChunkConfig, tokens: TokenCounter, embed: EmbedFn | None = None) -> list[Chunk]:
    """Chunks of one document, in order; ``embed`` is needed only by the semantic strategy."""
    spans = _spans(doc.text, config, tokens, embed)
    spans = [(s, e) for s, e in spans if doc.text[s:e].strip()]
    texts = [doc.text[s:e] for s, e in spans]
    counts = tokens.count(texts) if texts else []
    return [
        Chunk(doc.id, doc.name, i, s, e, t, n) for i, ((s, e), t, n) in enumerate(zip(spans, texts, counts))
    ]


def _spans(text: str, config: ChunkConfig, tokens: TokenCounter, embed: EmbedFn | None) -> list[tuple[int, int]]:
    length = _length_fn(config.unit, tokens)
    if config.strategy == "tokens":
        return token_windows(tokens.offsets(text), config.size, config.overlap)
    if config.strategy in ("sentences", "semantic"):
        sentences = _split_long(text, sentence_spans(text), config, length)
        breaks: set[int] = set()
        if config.strategy == "semantic":
            if embed is None:
                raise ConfigError("the 'semantic' strategy needs an embedder")
            breaks = semantic_breaks(text, sentences, embed, config.semantic_percentile)
        return pack_spans(text, sentences, config.size, config.overlap, length, breaks)
    return _langchain_spans(text, config, length)


def _length_fn(unit: str, tokens: TokenCounter) -> Callable[[str], int]:
    if unit == "tokens":
        return lambda s: tokens.count([s])[0]
    return len


def _split_long(text: str, units: list[tuple[int, int]], config: ChunkConfig, length) -> list[tuple[int, int]]:
    """Split any single sentence longer than the chunk size at word boundaries."""
    out: list[tuple[int, int]] = []
    for s, e in units:
        if length(text[s:e]) <= config.size:
            out.append((s, e))
            continue
        sub = _langchain_spans(text[s:e], ChunkConfig("recursive", config.size, 0, config.unit), length)
        out.extend((s + a, s + b) for a, b in sub)
    return out


def _langchain_spans(text: str, config: ChunkConfig, length: Callable[[str], int]) -> list[tuple[int, int]]:
    from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

    kwargs = dict(chunk_size=config.size, chunk_overlap=config.overlap, length_function=length)
    if config.strategy == "characters":
        splitter = RecursiveCharacterTextSplitter(separators=[""], strip_whitespace=False, **kwargs)
    elif config.strategy == "markdown":
        splitter = RecursiveCharacterTextSplitter.from_language(Language.MARKDOWN, **kwargs)
    else:
        splitter = RecursiveCharacterTextSplitter(**kwargs)
    return locate(text, splitter.split_text(text))


def locate(text: str, pieces: Sequence[str]) -> list[tuple[int, int]]:
    """Find each piece in ``text`` in order (each starts after the previous start)."""
    spans, cursor = [], 0
    for piece in pieces:
        start = text.find(piece, cursor)
        if start < 0:
            start = text.find(piece)
        if start < 0:
            continue
        spans.append((start, start + len(piece)))
        cursor = start + 1
    return spans


def token_windows(offsets: Sequence[tuple[int, int]], size: int, overlap: int) -> list[tuple[int, int]]:
    """Fixed windows of ``size`` tokens, stepping ``size - overlap``, mapped back to characters.

    >>> token_windows([(0, 1), (2, 3), (4, 5), (6, 7)], size=3, overlap=1)
    [(0, 5), (4, 7)]
    """
    spans, step = [], size - overlap
    for first in range(0, max(len(offsets), 1), step):
        window = offsets[first : first + size]
        if not window:
            break
        spans.append((window[0][0], window[-1][1]))
        if first + size >= len(offsets):
            break
    return spans


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9#*-])|\n\s*\n|\n(?=\s*(?:#|[-*] |\d+\. ))")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence (and paragraph/heading/list-item) boundaries as character spans."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if text[start : match.start()].strip():
            spans.append(_trim(text, start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append(_trim(text, start, len(text)))
    return [part for span in spans for part in _split_heading(text, span)]


def _split_heading(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """A markdown heading is a unit of its own, apart from the text under it."""
    s, e = span
    newline = text.find("\n", s, e)
    if text[s] != "#" or newline < 0:
        return [span]
    return [_trim(text, s, newline), _trim(text, newline, e)]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def pack_spans(
    text: str, units: list[tuple[int, int]], size: int, overlap: int, length: Callable[[str], int], breaks: set[int] = frozenset()
) -> list[tuple[int, int]]:
    """Greedily pack whole units (sentences) into chunks of at most ``size``.

    A unit index in ``breaks`` always starts a new chunk. Overlap carries the
    trailing units of the previous chunk whose length fits in ``overlap``.
    A single unit longer than ``size`` becomes its own chunk.
    """
    chunks: list[tuple[int, int]] = []
    current: list[int] = []  # unit indices
    for i, (s, e) in enumerate(units):
        candidate = current + [i]
        too_long = current and length(text[units[candidate[0]][0] : e]) > size
        if current and (too_long or i in breaks):
            chunks.append((units[current[0]][0], units[current[-1]][1]))
            current = [] if i in breaks else _overlap_tail(text, units, current, overlap, length)
            candidate = current + [i]
            if current and length(text[units[candidate[0]][0] : e]) > size:
                candidate = [i]
        current = candidate
    if current:
        chunks.append((units[current[0]][0], units[current[-1]][1]))
    return chunks


def _overlap_tail(text, units, current, overlap, length) -> list[int]:
    tail: list[int] = []
    for j in reversed(current[1:]):  # never carry the whole previous chunk
        if length(text[units[j][0] : units[current[-1]][1]]) > overlap:
            break
        tail.insert(0, j)
    return tail


def semantic_breaks(text: str, units: list[tuple[int, int]], embed: EmbedFn, percentile: float) -> set[int]:
    """Unit indices that start a new topic: where adjacent-sentence similarity falls below a percentile."""
    if len(units) < 3:
        return set()
    vectors = embed([text[s:e] for s, e in units])
    sims = np.sum(vectors[1:] * vectors[:-1], axis=1)  # vectors are normalised: dot = cosine
    threshold = np.percentile(sims, percentile)
    return {i + 1 for i, sim in enumerate(sims) if sim <= threshold}


def chunk_stats(chunks: Sequence[Chunk], max_tokens: int) -> dict:
    """Count and lengths of a chunking run, and how many chunks the embedder truncates (longer than ``max_tokens``).

    >>> c = [Chunk("d", "doc", i, 0, 1, "x", n) for i, n in enumerate((10, 30, 600))]
    >>> chunk_stats(c, 512)
    {'chunks': 3, 'mean tokens': 213.3, 'median tokens': 30, 'max tokens': 600, 'truncated': 1}
    """
    lengths = [c.n_tokens for c in chunks]
    return {"chunks": len(lengths), "mean tokens": round(sum(lengths) / len(lengths), 1) if lengths else 0,
            "median tokens": statistics.median(lengths) if lengths else 0, "max tokens": max(lengths, default=0),
            "truncated": sum(n > max_tokens for n in lengths)}
