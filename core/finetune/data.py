"""Training sets for fine-tuning: Q&A pairs, raw document text, paraphrases, open-book mix.

Every Q&A example is the prompt the model reads at answer time (``build_messages`` in the model's
profile layout, ``style``: the layout ``core.llm.plan.plan_prompt`` uses) rendered by
``core.llm.prompting.render`` (the chat template, or the plain format), followed by the answer and the
end-of-sequence token; the loss is computed on the answer tokens only (prompt tokens get label -100).
For an encoder-decoder model (``seq2seq=True``) the prompt is the encoder input and the labels are the
answer alone.

>>> ex = qa_example(tokenizer, "Who owns Elmby Blooms?", "Ada Vance owns it.")   # doctest: +SKIP
>>> ex.labels[:len(ex.input_ids) - ex.n_answer_tokens]                        # doctest: +SKIP
[-100, -100, …]   # only "Ada Vance owns it.</s>" is learned
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import torch

from core.rag.corpora import QAItem, check_row_count, parse_qa
from core.errors import DatasetError
from core.llm.prompting import PromptStyle, answer_prefix, build_messages, encode, render

IGNORE = -100  # label value that the loss skips (prompt and padding tokens)
TEXT_BLOCK_TOKENS = 128  # continued-pretraining block length: short enough for a tiny CPU model
N_DISTRACTORS = 1  # open-book examples show the right passage among this many others
PASSAGE_CHARS = 300  # a document window around the answer when a row has no supporting_text


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]  # as long as input_ids (causal LM), or the decoder's targets alone (seq2seq)
    kind: str  # "qa" | "paraphrase" | "open_book" | "text"

    @property
    def n_answer_tokens(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


@dataclass
class FinetuneData:
    """What one run trains and evaluates on."""

    train: list[Example]
    val: list[Example]
    train_items: list[QAItem]  # the facts the model is asked to recall (closed book)
    val_items: list[QAItem] = field(default_factory=list)
    passages: dict[str, list[str]] = field(default_factory=dict)  # question → open-book contexts
    style: PromptStyle | None = None  # the model's prompt layout: open-book examples and their scoring use it

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for ex in self.train:
            out[ex.kind] = out.get(ex.kind, 0) + 1
        return out


# --- reading Q&A rows ------------------------------------------------------------

def read_qa_upload(name: str, data: bytes) -> list[QAItem]:
    """A CSV/JSONL/JSON upload with ``question`` and ``answer`` → QAItems (DatasetError otherwise)."""
    return parse_qa(name, data)


def items_from_rows(rows: Iterable[dict]) -> list[QAItem]:
    """Rows edited in a table (dicts with question/answer[/value]) → QAItems; blank rows are skipped."""
    def cell(value) -> str:  # table cells may be None or NaN (empty cells in a DataFrame)
        return "" if value is None or value != value else str(value).strip()

    rows = list(rows)
    check_row_count("The table", len(rows))
    items = []
    for row in rows:
        q, a = cell(row.get("question")), cell(row.get("answer"))
        if q and a:
            items.append(QAItem(q, a, cell(row.get("value"))))
    if not items:
        raise DatasetError("The table has no row with both a question and an answer.")
    return items


def split_items(items: Sequence[QAItem], val_fraction: float, seed: int) -> tuple[list[QAItem], list[QAItem]]:
    """A seeded hold-out split; at least one training item; no validation when the fraction is 0."""
    order = list(items)
    random.Random(seed).shuffle(order)
    n_val = min(int(round(len(order) * val_fraction)), len(order) - 1)
    return order[n_val:], order[:n_val]


# --- tokenising ----------------------------------------------------------------

def qa_example(tokenizer, question: str, answer: str, contexts: list[str] | None = None, kind: str = "qa",
               seq2seq: bool = False, loss_on: str = "answer", style: PromptStyle | None = None) -> Example:
    """The prompt the model reads at answer time, then the answer + EOS.

    ``style`` is the model's prompt layout (its profile's ``prompt``): an open-book example puts its
    passages where the answering prompt will, so LoRA + RAG reads the layout it was trained on.

    ``loss_on="answer"`` (the Lab's default) learns only the answer: the prompt's labels are IGNORE, so no
    gradient is spent on re-learning the question and the chat template. ``"all"`` learns the prompt too
    (a causal LM only; an encoder's input has no labels).

    >>> class Tok:  # a toy tokenizer: one id per character, eos 0
    ...     eos_token_id, chat_template = 0, None
    ...     def __call__(self, text, add_special_tokens=False):
    ...         return {"input_ids": [ord(c) for c in text]}
    >>> ex = qa_example(Tok(), "Q?", "A")
    >>> ex.labels[-2:], ex.n_answer_tokens, set(ex.labels[:-3])
    ([65, 0], 3, {-100})
    >>> qa_example(Tok(), "Q?", "A", loss_on="all").n_answer_tokens == len(ex.input_ids)
    True
    """
    messages = build_messages(question, contexts, style=style)
    prompt, ids = render(tokenizer, messages), encode(tokenizer, messages, seq2seq)
    answer_ids = tokenizer(("" if seq2seq else answer_prefix(prompt)) + answer.strip(),
                           add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    check_example_tokens(question, len(ids) + len(answer_ids))
    if seq2seq:
        return Example(ids, answer_ids, kind)
    return Example(ids + answer_ids, (list(ids) if loss_on == "all" else [IGNORE] * len(ids)) + answer_ids, kind)


def check_example_tokens(question: str, n_tokens: int) -> None:
    """Refuse (DatasetError) an example longer than the server's token limit, naming its row.

    WHY refuse rather than cut: a cut answer teaches the model to stop mid-sentence, silently. The same rule
    runs for the app and the CLI (both build examples here); a step's memory grows with the square of its length.
    """
    from core.runtime.limits import limits, raise_hint

    most = limits().example_tokens
    if n_tokens > most:
        shown = " ".join(question.split())
        shown = shown if len(shown) <= 60 else shown[:57] + "…"
        raise DatasetError(f"The Q&A row “{shown}” makes a training example of {n_tokens:,} tokens; the limit is "
                           f"{most:,} per example (a step's memory grows with the square of its length). Shorten its "
                           f"answer or split it into several rows. {raise_hint('example_tokens')}")


def text_examples(tokenizer, texts: Iterable[str], block: int = TEXT_BLOCK_TOKENS, seq2seq: bool = False) -> list[Example]:
    """Raw text cut into blocks of ``block`` tokens; every token is learned (continued pretraining).

    An encoder-decoder reads the first half of a block and learns to write the second.
    """
    out = []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        for start in range(0, len(ids), block):
            piece = ids[start:start + block]
            if len(piece) >= 8:
                half = len(piece) // 2
                out.append(Example(piece[:half], piece[half:] + [tokenizer.eos_token_id], "text") if seq2seq
                           else Example(piece, list(piece), "text"))
    return out


def passage_for(item: QAItem, documents: dict[str, str]) -> str:
    """The passage that supports ``item``: its supporting_text, else a window of its document around the value."""
    if item.supporting_text:
        return item.supporting_text
    text = documents.get(item.document, "")
    if not text:
        return ""
    at = text.lower().find(item.target.lower())
    start = max(0, (at if at >= 0 else 0) - PASSAGE_CHARS // 2)
    window = text[start:start + PASSAGE_CHARS]
    return re.sub(r"\s+", " ", window).strip()


def open_book_contexts(items: Sequence[QAItem], documents: dict[str, str], seed: int) -> dict[str, list[str]]:
    """question → [its passage shuffled among distractor passages]; items without a passage are left out."""
    rng = random.Random(seed)
    passages = {it.question: passage_for(it, documents) for it in items}
    pool = [p for p in passages.values() if p]
    out = {}
    for question, passage in passages.items():
        if not passage:
            continue
        others = [p for p in pool if p != passage]
        ctx = rng.sample(others, min(N_DISTRACTORS, len(others))) + [passage]
        rng.shuffle(ctx)
        out[question] = ctx
    return out


def build_data(tokenizer, items: Sequence[QAItem], config, documents: dict[str, str] | None = None,
               seq2seq: bool = False, style: PromptStyle | None = None) -> FinetuneData:
    """Examples for ``config`` (a FinetuneConfig): its data kind, paraphrases, open-book mix and split.

    ``config.max_facts`` (when > 0) keeps that many facts (a seeded sample): a quick run on a real model.
    ``seq2seq``: examples for an encoder-decoder model; ``style``: the model's prompt layout (see ``qa_example``).
    """
    documents = documents or {}
    if not items:
        raise DatasetError("There are no Q&A pairs to train on. Pick a corpus with a Q&A set or upload one.")
    n_facts = getattr(config, "max_facts", 0)
    if 0 < n_facts < len(items):
        items = random.Random(config.seed).sample(list(items), n_facts)
    train_items, val_items = split_items(items, config.val_fraction, config.seed)
    passages = open_book_contexts(items, documents, config.seed)
    if config.data == "text":
        if not documents:
            raise DatasetError("Document-text training needs documents: pick a corpus or pass --docs.")
        examples = text_examples(tokenizer, documents.values(), seq2seq=seq2seq)
        rng = random.Random(config.seed)
        rng.shuffle(examples)
        n_val = min(int(round(len(examples) * config.val_fraction)), len(examples) - 1)
        return FinetuneData(examples[n_val:], examples[:n_val], train_items, val_items, passages, style)
    train = _qa_examples(tokenizer, train_items, config, passages, seq2seq, style)
    val = [qa_example(tokenizer, it.question, it.answer, seq2seq=seq2seq, style=style) for it in val_items]
    return FinetuneData(train, val, train_items, val_items, passages, style)


def _qa_examples(tokenizer, items, config, passages, seq2seq: bool = False,
                 style: PromptStyle | None = None) -> list[Example]:
    rng = random.Random(config.seed)
    loss_on = getattr(config, "loss_on", "answer")
    out = []
    for it in items:
        out.append(qa_example(tokenizer, it.question, it.answer, seq2seq=seq2seq, loss_on=loss_on))
        for p in it.paraphrases[: config.paraphrases]:
            out.append(qa_example(tokenizer, p, it.answer, kind="paraphrase", seq2seq=seq2seq, loss_on=loss_on))
    with_passage = [it for it in items if it.question in passages]
    n_open = int(round(len(with_passage) * config.open_book_mix))
    for it in rng.sample(with_passage, n_open):
        out.append(qa_example(tokenizer, it.question, it.answer, passages[it.question], kind="open_book",
                              seq2seq=seq2seq, loss_on=loss_on, style=style))
    return out


def collate(examples: Sequence[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors for training: input_ids, attention_mask, labels (padding ignored).

    Labels are padded to their own width: the inputs' for a causal LM, the answers' for seq2seq.
    """
    width = max(len(ex.input_ids) for ex in examples)
    label_width = max(len(ex.labels) for ex in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), label_width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, ex in enumerate(examples):
        n = len(ex.input_ids)
        ids[row, :n] = torch.tensor(ex.input_ids)
        labels[row, :len(ex.labels)] = torch.tensor(ex.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def micro_batches(examples: Sequence[Example], idx: Sequence[int], size: int) -> list[list[int]]:
    """``idx`` cut into micro-batches of at most ``size``, grouped by length (little padding per batch).

    Sorting by length before cutting keeps similar lengths together, so a micro-batch of short
    closed-book questions is not padded to a long open-book prompt. Memory follows ``size``.
    """
    if size <= 0 or size >= len(idx):
        return [list(idx)]
    ordered = sorted(idx, key=lambda i: (len(examples[i].input_ids), len(examples[i].labels)))
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def read_documents(paths: Sequence[str]) -> dict[str, str]:
    """Document name → text for files/folders (the corpus documents behind a Q&A set)."""
    from core.rag.documents import load_paths

    return {doc.name: doc.text for doc in load_paths(list(paths))} if paths else {}
