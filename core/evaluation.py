"""Scoring answers against a reference, and batch evaluation of systems over a Q&A set.

Scores for one answer (``score_answer``):

- ``correct``: the answer mentions the item's target (its short ``value``) as a whole value:
  ``core.scoring.is_correct``, the one rule of the Lab (the accuracy test of Ovadia et al. 2023).
- ``exact``: the normalised answer *equals* the target (strict; short answers only).
- ``similarity``: cosine of the answer's and the reference answer's embeddings.
- ``faithfulness``: share of the answer's content words found in the retrieved text
  (None when there was no retrieved text); ``target_in_sources`` says whether retrieval found the fact.

>>> from core.scoring import contains
>>> contains("It opens at 8:30 AM.", "8:30 am"), exact_match("8:30 am.", "8:30 AM")
(True, True)
>>> faithfulness("Elmby Blooms is owned by Ada Vance.", ["Ada Vance has owned Elmby Blooms since 1990."])
1.0
>>> faithfulness("Bo Grey owns Elmby Blooms.", ["Elmby Blooms is owned by Ada Vance."])  # bo, grey, owns not found
0.4
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from core.answering import Answer, Answerer, Decoding, SYSTEMS, check_systems
from core.rag.corpora import QAItem
from core.errors import Cancelled, ConfigError
from core.failures import count_labels, label_answer
from core.scoring import exact_match, is_correct, normalise

STOPWORDS = frozenset("""a an the is are was were be been being am of in on at to for from by with and or but not no
it its it's this that these those there here as into than then so do does did has have had will would can could
should may might must i you he she we they me him her us them my your his our their what which who whom whose when
where why how one answer question yes""".split())
_WORD = re.compile(r"[a-z0-9$£€][a-z0-9$£€.,:'/-]*")


def content_words(text: str) -> list[str]:
    """Lower-cased words without stopwords or trailing punctuation: ``"Ada owns it."`` → ``["ada", "owns"]``."""
    words = (w.rstrip(".,:;'/-") for w in _WORD.findall(normalise(text)))
    return [w for w in words if w and w not in STOPWORDS]


def faithfulness(answer: str, source_texts: Sequence[str]) -> float | None:
    """Share of the answer's content words that occur in the sources; None without sources or content words."""
    words = content_words(answer)
    if not source_texts or not words:
        return None
    found = set(content_words(" ".join(source_texts)))
    return round(sum(w in found for w in words) / len(words), 4)


def added_words(answer: str, other: str, sources: Sequence[str] = ()) -> list[str]:
    """Content words of ``answer`` missing from ``other`` (and, if ``sources`` is given, found in them), in order."""
    seen, out = set(content_words(other)), []
    found = set(content_words(" ".join(sources))) if sources else None
    for w in content_words(answer):
        if w not in seen and (found is None or w in found) and w not in out:
            out.append(w)
    return out


def similarities(embedder, answers: Sequence[str], references: Sequence[str]) -> list[float]:
    """Cosine similarity of each answer to its reference (the embedder's vectors are normalised)."""
    if not answers:
        return []
    a, r = embedder.encode(list(answers)), embedder.encode(list(references))
    return [round(float(x), 4) for x in np.sum(a * r, axis=1)]


def score_answer(answer: Answer, item: QAItem) -> dict:
    """Every score except similarity (which needs the embedder, done in batch)."""
    chunks = [s.text for s in answer.sources if s.kind == "chunk"]
    return {"correct": is_correct(answer.text, item), "exact": exact_match(answer.text, item.target),
            "faithfulness": faithfulness(answer.text, chunks),
            "target_in_sources": any(is_correct(c, item) for c in chunks) if chunks else None}


# --- batch evaluation -----------------------------------------------------------

@dataclass(frozen=True)
class SystemSpec:
    """One column of an evaluation: a label, which of the four systems, and the Answerer that runs it."""

    label: str  # e.g. "lora (paraphrases)"
    system: str  # one of SYSTEMS
    answerer: Answerer


def specs_for(answerer: Answerer, systems: Sequence[str] | None = None) -> list[SystemSpec]:
    """One spec per system, labelled by its name; default: every system this answerer can run."""
    systems = check_systems(systems) if systems is not None else answerer.available()
    return [SystemSpec(s, s, answerer) for s in systems]


def ovadia_specs(plain: Answerer, adapted: dict[str, Answerer]) -> list[SystemSpec]:
    """base and RAG, then each adapter alone, then each adapter + RAG: the rows of Ovadia et al.
    2023, Table 2, that the Lab can run (``adapted``: label, e.g. "lora (paraphrases)", → its Answerer)."""
    specs = [SystemSpec("base", "base", plain), SystemSpec("rag", "rag", plain)]
    specs += [SystemSpec(label, "lora", a) for label, a in adapted.items()]
    return specs + [SystemSpec(f"{label}+rag", "lora+rag", a) for label, a in adapted.items()]


def question_variants(qa: Sequence[QAItem], paraphrases: int = 0) -> list[tuple[int, str, str]]:
    """(item index, variant, question): every original, then up to ``paraphrases`` paraphrases of each.

    Paraphrases are taken from the END of each list: fine-tuning with paraphrase augmentation
    trains on the first ones, so these are wordings no adapter has seen.
    """
    out = [(i, "original", it.question) for i, it in enumerate(qa)]
    out += [(i, "paraphrase", p) for i, it in enumerate(qa) for p in it.paraphrases[::-1][:paraphrases]]
    return out


@dataclass
class EvalResult:
    rows: list[dict]  # one per (question, system): see ``ROW_FIELDS``
    systems: dict[str, dict] = field(default_factory=dict)  # label → summary (see ``summarise``)
    complete: bool = True  # False when stopped early

    def to_dict(self) -> dict:
        return {"systems": self.systems, "rows": self.rows, "complete": self.complete}


ROW_FIELDS = ["item", "variant", "question", "target", "system", "answer", "correct", "exact", "similarity",
              "faithfulness", "target_in_sources", "prompt_tokens", "completion_tokens", "latency_s", "sources",
              "failure", "detail", "retrieved", "in_prompt"]  # the last four: core.failures (why a wrong answer failed)


def evaluate(specs: Sequence[SystemSpec], qa: Sequence[QAItem], *, paraphrases: int = 0,
             decoding: Decoding = Decoding(), embedder=None,
             progress: Callable[[int, int], None] | None = None,
             should_stop: Callable[[], bool] | None = None, documents: Sequence[str] | None = None) -> EvalResult:
    """Answer every question variant with every spec, score it and label why it failed (``core.failures``).

    ``documents``: the corpus's texts, for ``not_in_corpus``; by default the answerers' documents, else the
    retriever's chunks put back together.

    ``progress(done, total)`` is called after each answer. ``should_stop()`` turning true raises
    ``Cancelled``; its ``.partial`` attribute holds the EvalResult of the answers made so far.
    """
    if not specs:
        raise ConfigError("Nothing to evaluate: choose at least one system.")
    variants = question_variants(qa, paraphrases)
    total, rows, hits_cache = len(variants) * len(specs), [], {}
    corpus = corpus_texts(specs, documents)
    for i, variant, question in variants:
        for spec in specs:
            if should_stop and should_stop():
                exc = Cancelled(f"Evaluation stopped after {len(rows)} of {total} answers.")
                exc.partial = _finish(rows, embedder, qa, complete=False)
                raise exc
            rows.append(_row(spec, qa[i], i, variant, question, decoding, hits_cache, corpus))
            if progress:
                progress(len(rows), total)
    return _finish(rows, embedder, qa)


def _row(spec: SystemSpec, item: QAItem, i: int, variant: str, question: str, decoding: Decoding, hits_cache: dict,
         corpus: list[str] | None = None) -> dict:
    hits, seconds = None, 0.0
    if spec.answerer.retriever is not None and spec.system in ("rag", "lora+rag"):
        key = (id(spec.answerer.retriever), question)  # one search per question, shared by the RAG systems
        if key not in hits_cache:
            t0 = time.perf_counter()
            found = spec.answerer.retrieve(question)
            hits_cache[key] = (found, time.perf_counter() - t0)
        hits, seconds = hits_cache[key]
    # each RAG system's latency includes the search, as if it had searched on its own
    answer = spec.answerer.answer(question, spec.system, decoding, hits=hits, retrieval_s=seconds)
    training = spec.answerer.training
    failure = label_answer(answer, item.target, corpus,
                           [t.target for t in training.items] if training is not None else None)
    return {"item": i, "variant": variant, "question": question, "target": item.target, "system": spec.label,
            "answer": answer.text, **score_answer(answer, item), "similarity": None,
            "prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
            "latency_s": round(answer.latency_s, 4),
            "sources": "; ".join(f"{s.document}[{s.start}:{s.end}]" if s.kind == "chunk" else f"train#{s.index}"
                                 for s in answer.sources), **failure.to_dict()}


def corpus_texts(specs: Sequence[SystemSpec], documents: Sequence[str] | None = None) -> list[str] | None:
    """The corpus's texts: ``documents``, else an answerer's documents, else the retriever's chunks joined back
    into documents by their offsets (None when no spec has either: then no answer can be ``not_in_corpus``)."""
    if documents is not None:
        return [getattr(d, "text", d) for d in documents]
    for spec in specs:
        if spec.answerer.documents:
            return [d.text for d in spec.answerer.documents]
    for spec in specs:
        if spec.answerer.retriever is not None:
            docs: dict[str, str] = {}
            for c in sorted(spec.answerer.retriever.chunks, key=lambda c: (c.doc_id, c.start)):
                text = docs.get(c.doc_id, "")
                docs[c.doc_id] = text + c.text[max(0, len(text) - c.start):]  # overlaps are not repeated
            return list(docs.values())
    return None


def _finish(rows: list[dict], embedder, qa: Sequence[QAItem], complete: bool = True) -> EvalResult:
    if embedder is not None and rows:
        sims = similarities(embedder, [r["answer"] or "-" for r in rows], [qa[r["item"]].answer for r in rows])
        for row, sim in zip(rows, sims):
            row["similarity"] = sim
    return EvalResult(rows, summarise(rows), complete)


def _mean(values) -> float | None:
    values = [float(v) for v in values if v is not None]
    return round(sum(values) / len(values), 4) if values else None


def summarise(rows: Sequence[dict]) -> dict[str, dict]:
    """Per system label (in first-seen order): accuracy overall / on originals / on paraphrases,
    exact match, similarity, faithfulness, mean latency and tokens, n, and how many rows carry each failure label."""
    out: dict[str, dict] = {}
    for label in dict.fromkeys(r["system"] for r in rows):
        mine = [r for r in rows if r["system"] == label]
        by = {v: [r["correct"] for r in mine if r["variant"] == v] for v in ("original", "paraphrase")}
        out[label] = {
            "accuracy": _mean(r["correct"] for r in mine),
            "accuracy_original": _mean(by["original"]),
            "accuracy_paraphrase": _mean(by["paraphrase"]),
            "exact_match": _mean(r["exact"] for r in mine),
            "similarity": _mean(r["similarity"] for r in mine),
            "faithfulness": _mean(r["faithfulness"] for r in mine),
            "latency_s": _mean(r["latency_s"] for r in mine),
            "prompt_tokens": _mean(r["prompt_tokens"] for r in mine),
            "completion_tokens": _mean(r["completion_tokens"] for r in mine),
            "n": len(mine),
            "failures": count_labels(mine),  # label → rows (core.failures.LABELS, zeros included)
        }
    return out


def rows_to_csv(rows: Sequence[dict]) -> str:
    """The per-question rows as CSV text (header first), for download or a file."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ROW_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:  # the texts behind a label are JSON in their cell
        writer.writerow({**row, **{k: json.dumps(row[k], ensure_ascii=False) for k in ("retrieved", "in_prompt")
                                   if row.get(k) is not None}})
    return buffer.getvalue()


__all__ = ["SYSTEMS", "EvalResult", "SystemSpec", "added_words", "content_words", "evaluate",
           "faithfulness", "question_variants", "rows_to_csv", "score_answer", "similarities",
           "specs_for", "summarise"]
