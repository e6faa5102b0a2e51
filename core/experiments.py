"""Experiments: knowledge update (RAG follows an edited fact, LoRA stays stale) and forgetting.

``knowledge_update`` edits one fact in a copy of its document, re-indexes (the embedding
cache re-embeds only the chunks whose text changed), and asks the same question again.

>>> r = knowledge_update(docs, item, "9:15 am", answerer=answerer, cache=cache)     # doctest: +SKIP
>>> r.old_answer_rag.text, r.new_answer_rag.text, r.lora_answer.text                 # doctest: +SKIP
('It opens at 8:30 am.', 'It opens at 9:15 am.', 'It opens at 8:30 am.')
>>> r.n_reembedded, round(r.reindex_seconds, 2), r.finetune_seconds                  # doctest: +SKIP
(1, 0.21, 41.7)
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from core.answering import Answer, Answerer, Decoding
from core.llm.profiles import profile_of
from core.rag.corpora import QAItem
from core.rag.documents import Document
from core.errors import Cancelled, ConfigError, DatasetError
from core.finetune.forgetting import general_items
from core.scoring import is_correct, value_pattern
from core.rag.retrieval import Retriever
from core.runtime.workspace import content_hash, read_json

# Ovadia et al. 2023, "Fine-Tuning or Retrieval?", Table 2 (current events, Mistral-7B).
OVADIA_2023 = {"model": "Mistral-7B", "base": 0.481, "rag": 0.875, "lora": 0.504, "lora (paraphrases)": 0.588,
               "lora+rag": 0.810, "lora (paraphrases)+rag": 0.830}


# --- knowledge update ---------------------------------------------------------------

def edit_fact(docs: Sequence[Document], item: QAItem, new_value: str) -> tuple[list[Document], str]:
    """Copies of ``docs`` with ``item.value`` replaced by ``new_value`` in the item's document.

    Returns (documents, name of the edited document). Raises DatasetError when the value
    is not found, or ConfigError when the new value is empty or unchanged.
    """
    old, new = item.value or item.target, new_value.strip()
    if not new:
        raise ConfigError("Type the new value of the fact first.")
    if new == old:
        raise ConfigError(f"The new value is the same as the old one ({old!r}): change it to see RAG follow.")
    pattern = value_pattern(old)
    targets = [d for d in docs if (not item.document or d.name == item.document) and pattern.search(d.text)]
    if not targets:
        where = item.document or "the documents"
        raise DatasetError(f"The value {old!r} does not occur in {where}, so there is nothing to edit.")
    edited = targets[0]
    # whole values only: editing "12" must not turn "2012" into "2013"
    text = pattern.sub(lambda _: new, edited.text)
    copy = Document(content_hash(edited.name, text)[:12], edited.name, text, {**edited.metadata, "edited": True})
    return [copy if d is edited else d for d in docs], edited.name


def finetune_seconds(adapter_dir: str | Path | None) -> float | None:
    """Seconds the adapter took to train (training + evaluation), from its metrics.json."""
    if not adapter_dir:
        return None
    summary = (read_json(Path(adapter_dir) / "metrics.json") or {}).get("summary") or {}
    seconds = summary.get("seconds", summary.get("train_seconds"))
    return float(seconds) if seconds is not None else None


@dataclass
class UpdateResult:
    question: str
    old_value: str
    new_value: str
    document: str
    old_answer_rag: Answer
    new_answer_rag: Answer
    lora_answer: Answer | None  # None without an adapter
    lora_rag_answer: Answer | None
    reindex_seconds: float  # chunk + embed (new chunks only) + index
    n_reembedded: int  # chunks embedded now (cache misses)
    n_changed_chunks: int  # chunks whose text differs from the old index
    n_chunks: int
    finetune_seconds: float | None  # what retraining the adapter took, for comparison
    retriever: Retriever | None = None  # the new index (not serialised)
    bank: list | None = None  # the question bank after the edit (core.questions.bank.refresh_bank), when one was given
    bank_remade: list[str] | None = None  # documents whose questions were made again (only the edited one)

    @property
    def rag_follows(self) -> bool:
        return is_correct(self.new_answer_rag.text, self.new_value)

    @property
    def lora_stale(self) -> bool | None:
        """The adapter still gives the old value (and not the new one: "12" → "129" must not count)."""
        if self.lora_answer is None:
            return None
        return is_correct(self.lora_answer.text, self.old_value) and not is_correct(self.lora_answer.text, self.new_value)

    def to_dict(self) -> dict:
        answers = {"old_answer_rag": self.old_answer_rag, "new_answer_rag": self.new_answer_rag,
                   "lora_answer": self.lora_answer, "lora_rag_answer": self.lora_rag_answer}
        return {"question": self.question, "old_value": self.old_value, "new_value": self.new_value,
                "document": self.document, **{k: a.to_dict() if a else None for k, a in answers.items()},
                "reindex_seconds": round(self.reindex_seconds, 3), "n_reembedded": self.n_reembedded,
                "n_changed_chunks": self.n_changed_chunks, "n_chunks": self.n_chunks,
                "finetune_seconds": self.finetune_seconds, "rag_follows": self.rag_follows, "lora_stale": self.lora_stale,
                **({"bank": [i.to_dict() for i in self.bank], "bank_remade": self.bank_remade}
                   if self.bank is not None else {})}


def reindex(old: Retriever, docs: Sequence[Document], cache=None) -> Retriever:
    """Build the index again for edited ``docs`` with ``old``'s settings; unchanged chunks come from the cache.

    Without a shared cache, a private one seeded with the old vectors is used (so the same holds).
    """
    if cache is not None:
        return Retriever.build(docs, old.embedder, old.chunk_config, old.index_config, cache=cache)
    from core.rag.embedding import EmbeddingCache

    with tempfile.TemporaryDirectory(prefix="lab-reindex-") as tmp:
        private = EmbeddingCache(Path(tmp), old.embedder.cache_key)
        private.put([content_hash(c.text) for c in old.chunks], old.vectors)
        return Retriever.build(docs, old.embedder, old.chunk_config, old.index_config, cache=private)


def knowledge_update(docs: Sequence[Document], item: QAItem, new_value: str, *, answerer: Answerer,
                     cache=None, decoding: Decoding = Decoding(), adapter_dir: str | Path | None = None,
                     bank: Sequence | None = None) -> UpdateResult:
    """Ask, edit the fact, re-index, ask again. ``answerer`` holds the current retriever (and adapter, if any).

    With the documents' question ``bank``, the bank follows the edit: only the edited document's
    questions are made again (``refresh_bank``), so the new value is what the bank now asks for.
    """
    if answerer.retriever is None:
        raise ConfigError("The knowledge update needs indexed documents (a retriever).")
    question = item.question
    old_rag = answerer.answer(question, "rag", decoding)
    new_docs, doc_name = edit_fact(docs, item, new_value)
    t0 = time.perf_counter()
    new_retriever = reindex(answerer.retriever, new_docs, cache)
    seconds = time.perf_counter() - t0
    old_texts = {c.text for c in answerer.retriever.chunks}
    updated = dataclasses.replace(answerer, retriever=new_retriever)
    has_lora = answerer.adapter is not None
    refreshed, remade = (None, None)
    if bank is not None:
        from core.questions.bank import refresh_bank

        refreshed, remade = refresh_bank(bank, new_docs, chunks=new_retriever.chunks)
    return UpdateResult(
        question, item.value or item.target, new_value.strip(), doc_name, old_rag,
        updated.answer(question, "rag", decoding),
        updated.answer(question, "lora", decoding) if has_lora else None,
        updated.answer(question, "lora+rag", decoding) if has_lora else None,
        seconds, new_retriever.stats.n_embedded, sum(c.text not in old_texts for c in new_retriever.chunks),
        len(new_retriever.chunks), finetune_seconds(adapter_dir), new_retriever, refreshed, remade)


# --- forgetting -------------------------------------------------------------------

def forgetting_check(answerer: Answerer, items: Sequence[QAItem] | None = None,
                     decoding: Decoding = Decoding()) -> dict:
    """General questions answered before (base) and after (LoRA) fine-tuning.

    Returns ``{"before": accuracy, "after": accuracy, "rows": [{question, target, before, after,
    before_correct, after_correct}, …]}``.
    """
    if answerer.adapter is None:
        raise ConfigError("The forgetting check needs a LoRA adapter: train one on the fine-tuning page.")
    items = list(items) if items is not None else general_items(profile_of(answerer.base).forgetting)
    rows = []
    for it in items:
        before = answerer.answer(it.question, "base", decoding).text
        after = answerer.answer(it.question, "lora", decoding).text
        rows.append({"question": it.question, "target": it.target, "before": before, "after": after,
                     "before_correct": is_correct(before, it), "after_correct": is_correct(after, it)})
    n = max(len(rows), 1)
    return {"before": sum(r["before_correct"] for r in rows) / n, "after": sum(r["after_correct"] for r in rows) / n,
            "rows": rows}


# --- the paper's own setting: LoRA on the documents as plain text ------------------------------

def document_training_set(docs: Sequence[Document], qa: Sequence[QAItem], rewrites: int, seed: int = 0) -> dict[str, str]:
    """The documents, plus ``rewrites`` rewrites of each (same facts, other words): Ovadia et al.'s FT-par data."""
    from core.world import rewrite_documents

    texts = {d.name: d.text for d in docs}
    extra = rewrite_documents(qa, rewrites, seed) if rewrites else {}
    if rewrites and not extra:
        raise DatasetError("Rewriting needs a 🧪 world corpus: its Q&A rows name the entity and attribute of each fact.")
    return {**texts, **extra}


def document_training_accuracy(base, corpus, rewrites: int, *, max_steps: int = 0, seed: int = 0,
                               should_stop: Callable[[], bool] | None = None) -> dict:
    """Train LoRA on ``corpus``'s documents (+ rewrites) as plain text, then ask every question closed book.

    Returns ``{"corpus", "rewrites", "accuracy", "train_tokens", "steps", "facts_recalled"}``.
    """
    from core.rag.documents import load_paths
    from core.rag.corpora import load_qa
    from core.evaluation import SystemSpec, evaluate
    from core.finetune import FinetuneConfig, load_adapter, train
    from core.finetune.data import build_data

    docs, qa = load_paths([corpus.docs_path]), load_qa(corpus.qa_path)
    documents = document_training_set(docs, qa, rewrites, seed)
    config = FinetuneConfig(data="text", val_fraction=0.0, eval_every=10_000, max_steps=max_steps, seed=seed)
    data = build_data(base.tokenizer, qa, config, documents)
    with tempfile.TemporaryDirectory(prefix="lab-doc-ft-") as tmp:
        run = train(base.model, base.tokenizer, data, config, tmp, base_name=base.name, should_stop=should_stop)
        adapted = Answerer(base, adapter=load_adapter(base, tmp))
        result = evaluate([SystemSpec("lora (documents)", "lora", adapted)], qa, decoding=Decoding(max_new_tokens=32))
    return {"corpus": corpus.name, "rewrites": rewrites, "accuracy": result.systems["lora (documents)"]["accuracy"],
            "train_tokens": sum(len(e.input_ids) for e in data.train), "steps": len(run.steps),
            "facts_recalled": run.summary()["facts_recalled"]}


def document_training_sweep(base, corpus, rewrites: Sequence[int], *, max_steps: int = 0):
    """A ``core.runtime.jobs.task_job`` function: ``document_training_accuracy`` for each number of rewrites, in order.

    Stopping keeps the finished rows (``Cancelled.partial``).
    """
    def run(progress: Callable[[int, int], None], should_stop: Callable[[], bool]) -> list[dict]:
        rows: list[dict] = []
        for n in rewrites:
            progress(len(rows), len(rewrites))
            if should_stop():
                exc = Cancelled(f"stopped after {len(rows)} of {len(rewrites)} runs")
                exc.partial = rows
                raise exc
            rows.append(document_training_accuracy(base, corpus, n, max_steps=max_steps, should_stop=should_stop))
        progress(len(rows), len(rewrites))
        return rows

    return run


@dataclass(frozen=True)
class DocumentTrainingSpec:
    """The document-training sweep as plain data (the model's name, the corpus folder, the rewrites), so a Ray
    worker loads the model and runs it; progress and stop work as in this process (``core.runtime.jobs``).

    >>> DocumentTrainingSpec("lab-tiny-lm", corpus, (0, 1, 2))(ctx)[0]["accuracy"]   # doctest: +SKIP
    0.12
    """

    model: str  # generator name or absolute path (``core.finetune.job.model_ref``)
    corpus: str  # the corpus folder (``core.rag.corpora.CorpusInfo.path``), absolute
    rewrites: tuple[int, ...]
    max_steps: int = 0
    cpus: int = 1
    memory_mb: float = 2000.0

    @property
    def memory_key(self) -> str:
        """What a Ray executor keys this job's measured peak by: a sweep trains a copy, unlike a training run."""
        return f"documents:{self.model}"

    def __call__(self, ctx) -> list[dict]:
        from core.llm.loading import load_generator
        from core.rag.corpora import get_corpus

        folder = Path(self.corpus)
        sweep = document_training_sweep(load_generator(self.model, cache=False), get_corpus(folder.name, folder.parent),
                                        self.rewrites, max_steps=self.max_steps)
        return sweep(lambda done, total: ctx.report({"done": done, "total": total}), ctx.should_stop)


def document_training_job(owner: str, base, corpus, rewrites: Sequence[int], *, max_steps: int = 0,
                          measure: tuple[str, int] | None = None):
    """The sweep as a job on the training lane: here it trains a copy of the loaded ``base``; on a Ray
    cluster a worker runs its ``DocumentTrainingSpec``."""
    from core.finetune import FinetuneConfig
    from core.finetune.job import memory_estimate_mb, model_ref
    from core.runtime.jobs import task_job

    if corpus is None or corpus.qa_path is None:
        raise ConfigError("Training on the documents needs a sample corpus with a Q&A set (its questions are asked "
                          "closed book after each run).")
    spec = DocumentTrainingSpec(model_ref(base.name), str(Path(corpus.path).resolve()), tuple(rewrites), max_steps,
                                memory_mb=memory_estimate_mb(base.n_params, FinetuneConfig()))
    return task_job(owner, "adapters trained on documents", document_training_sweep(base, corpus, rewrites,
                                                                                     max_steps=max_steps),
                    lane="train", measure=measure, spec=spec)
