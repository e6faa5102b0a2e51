"""Why an answer failed: one label per evaluated answer, by rules anyone can check against the row's own texts.

The labels, tested in this order (the first that holds wins):

- ``none``: the answer is right, by the one scoring rule (``core.scoring.is_correct``);
- closed-book systems (base, LoRA) are then always ``not_learned``: the weights did not hold the value
  (``detail`` says "not in the training set" or "trained, not recalled");
- ``in_prompt_unused``: the value is in a passage the model was given (``in_prompt``);
- ``cut_from_prompt``: the value is in a retrieved text (``retrieved``) but in no passage of the prompt: the
  window fit, sentence focus or k removed it;
- ``not_retrieved``: the value is in a document but in no retrieved text;
- ``not_in_corpus``: the value is in no document (a Q&A row the documents cannot answer).

"The value is in a text" is the scoring rule itself (normalised, as a whole value), so a label never
disagrees with the mark. Testing the prompt first and the corpus last makes every label agree with the
row's own ``retrieved`` and ``in_prompt`` texts, whatever chunk boundaries do to a value.

>>> label_failure("Ada", "Bo owns it.", reads_passages=True, documents=["Ada owns it."],
...               retrieved=["Ada owns it."], in_prompt=["Ada owns"]).label
'in_prompt_unused'
>>> label_failure("Ada", "Bo owns it.", reads_passages=True, documents=["Ada owns it."],
...               retrieved=["Ada owns it."], in_prompt=["It is owned."]).label
'cut_from_prompt'
>>> label_failure("Ada", "Bo.", reads_passages=False, trained=True).detail
'trained, not recalled: “Ada” is in the training set, the adapter did not give it'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from core.scoring import is_correct, trim

LABELS = ("none", "not_in_corpus", "not_retrieved", "cut_from_prompt", "in_prompt_unused", "not_learned")
FAILURES = LABELS[1:]
COLOURS = {"none": "#16a34a", "not_in_corpus": "#6b7280", "not_retrieved": "#dc2626", "cut_from_prompt": "#f59e0b",
           "in_prompt_unused": "#7c3aed", "not_learned": "#2563eb"}
TITLES = {"none": "✅ right", "not_in_corpus": "📭 not in the corpus", "not_retrieved": "🔍 not retrieved",
          "cut_from_prompt": "✂️ cut from the prompt", "in_prompt_unused": "👀 in the prompt, unused",
          "not_learned": "🧠 not learned"}
MEANINGS = {
    "none": "The answer gives the value.",
    "not_in_corpus": "No document holds the value: no system that reads can find it (a question the documents cannot answer).",
    "not_retrieved": "A document holds the value, but no retrieved chunk does: retrieval missed it.",
    "cut_from_prompt": "A retrieved text holds the value, but the prompt does not: the window fit, sentence focus or k "
                       "removed it before the model read.",
    "in_prompt_unused": "The model was given the value in its prompt and did not answer with it: the reader failed.",
    "not_learned": "A closed-book system: its weights did not hold the value.",
}


@dataclass(frozen=True)
class Failure:
    """The label of one answer, and the texts that decided it (None for closed-book systems)."""

    label: str  # one of LABELS
    detail: str  # one sentence a learner can check
    retrieved: list[dict] | None = None  # [{"chunk", "rank", "text"}]: what the prompt's passages were chosen from
    in_prompt: list[str] | None = None  # exactly the passages the model saw

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)} (got {self.label!r})")

    def to_dict(self) -> dict:
        """The four columns an evaluation row gets: ``failure`` (the label), ``detail``, ``retrieved``, ``in_prompt``."""
        out = asdict(self)
        return {"failure": out.pop("label"), **out}


def holds(texts: Sequence[str], value: str) -> list[int]:
    """Positions (0-based) of the texts that hold ``value`` by the scoring rule.

    >>> holds(["costs $12.50", "costs $12."], "$12")
    [1]
    """
    return [i for i, text in enumerate(texts) if is_correct(text, value)]


def label_failure(value: str, answer: str, *, reads_passages: bool, documents: Sequence[str] | None = None,
                  retrieved: Sequence[str] = (), in_prompt: Sequence[str] = (), trained: bool | None = None,
                  names: Sequence[str] = (), why_cut: str = "") -> Failure:
    """THE rule (see the module docstring). ``names``: a label per retrieved text for the detail (e.g. "chunk 2");
    ``trained``: closed book, whether the value is in the adapter's training set (None = no adapter: base)."""
    shown = f"“{value}”"
    if is_correct(answer, value):
        return Failure("none", f"the answer gives {shown}")
    if not reads_passages:
        if trained:
            return Failure("not_learned", f"trained, not recalled: {shown} is in the training set, the adapter did not give it")
        who = "the base model was never trained on these documents" if trained is None else "the adapter never saw it"
        return Failure("not_learned", f"not in the training set: {who}")
    names = list(names) or [f"text {i + 1}" for i in range(len(retrieved))]
    if (inside := holds(in_prompt, value)):
        return Failure("in_prompt_unused", f"{shown} is in passage {inside[0] + 1} of the prompt; the model answered otherwise")
    if (found := holds(retrieved, value)):
        return Failure("cut_from_prompt", f"{shown} is in retrieved {names[found[0]]} but in no passage of the prompt"
                       + (f" ({why_cut})" if why_cut else ""))
    if documents is None or holds(documents, value):
        return Failure("not_retrieved", f"{shown} is in the documents but in none of the {len(retrieved)} retrieved texts")
    return Failure("not_in_corpus", f"{shown} is in none of the {len(documents)} documents")


def chunk_id(source) -> str:
    """A retrieved text's id: its document and character span (``notes.md[120:480]``)."""
    return f"{source.document}[{source.start}:{source.end}]"


def why_cut(answer) -> str:
    """What removed retrieved text before the prompt: the window fit, sentence focus, or both."""
    reasons = []
    if answer.n_contexts_dropped:
        reasons.append(f"the window fit dropped {answer.n_contexts_dropped} chunk(s)")
    if answer.focus:
        reasons.append(f"sentence focus kept {len(answer.focus)} other sentence(s)")
    if answer.corpus_share is not None and answer.corpus_share < 1:
        reasons.append(f"only {answer.corpus_share:.0%} of the corpus fit in the window")
    return "; ".join(reasons)


def label_answer(answer, target: str, documents: Sequence[str] | None = None,
                 training_targets: Sequence[str] | None = None) -> Failure:
    """The label of one ``core.answering.Answer`` for the right value ``target``.

    ``documents``: the corpus's texts (None when unknown: a value retrieval missed is then ``not_retrieved``);
    ``training_targets``: the values the adapter trained on (LoRA answers; None for the base model).
    """
    from core.answering import USES_ADAPTER

    if answer.retrieved is None:  # closed book
        trained = None
        if USES_ADAPTER.get(answer.system, False):
            trained = trim(target) in {trim(t) for t in training_targets or ()}
        return label_failure(target, answer.text, reads_passages=False, trained=trained)
    retrieved = [{"chunk": chunk_id(s), "rank": s.rank, "text": s.text} for s in answer.retrieved]
    names = [f"document {s.document} (#{s.rank} in corpus order)" if s.kind == "document" else
             f"chunk {chunk_id(s)} (rank {s.rank})" for s in answer.retrieved]
    found = label_failure(target, answer.text, reads_passages=True, documents=documents,
                          retrieved=[r["text"] for r in retrieved], in_prompt=answer.passages or [], names=names,
                          why_cut=why_cut(answer))
    return Failure(found.label, found.detail, retrieved, list(answer.passages or []))


def count_labels(rows: Sequence[dict]) -> dict[str, int]:
    """How many rows carry each label, every label listed (zeros included), in ``LABELS`` order."""
    return {label: sum(r.get("failure") == label for r in rows) for label in LABELS}


def flows(rows: Sequence[dict], source: str, target: str) -> dict[tuple[str, str], int]:
    """(label under ``source``, label under ``target``) → how many of the same questions made that move.

    Rows are matched on (item, variant, question), so each question counts once per pair of systems.
    """
    def by_question(system: str) -> dict:
        return {(r["item"], r["variant"], r["question"]): r["failure"] for r in rows if r["system"] == system}

    first, second = by_question(source), by_question(target)
    out: dict[tuple[str, str], int] = {}
    for key, label in first.items():
        if key in second:
            out[(label, second[key])] = out.get((label, second[key]), 0) + 1
    return out


def where_in_documents(documents, value: str, width: int = 70) -> list[dict]:
    """Where ``value`` occurs in the corpus: ``[{"document", "start", "end", "snippet"}]`` (``documents``: objects
    with ``name`` and ``text``), found as the scoring rule finds it (a whole value, any case).

    >>> from types import SimpleNamespace as D
    >>> where_in_documents([D(name="a.md", text="It costs $70.35 today.")], "$70.35")[0]["start"]
    9
    """
    from core.scoring import value_pattern

    pattern, out = value_pattern(trim(value)), []
    for doc in documents:
        for m in pattern.finditer(doc.text):
            a, b = max(0, m.start() - width), min(len(doc.text), m.end() + width)
            out.append({"document": doc.name, "start": m.start(), "end": m.end(),
                        "snippet": ("…" if a else "") + " ".join(doc.text[a:b].split()) + ("…" if b < len(doc.text) else "")})
    return out
