"""``python -m core eval``: accuracy of base / RAG / LoRA / LoRA+RAG / long context over a Q&A set.

    python -m core eval --docs sample_data/world_arcade/docs --qa sample_data/world_arcade/qa.jsonl \\
        [--adapter DIR] [--paraphrases [N]] [--model NAME_OR_PATH] [-k N] [--limit N] [--csv FILE] [--json]

An answer is correct when it contains the row's ``value`` (else its ``answer``), after
lower-casing. Without ``--adapter`` only base, rag and long-context are evaluated (and the output says so).

JSON (``--json``): ``{"systems": {"base": {"accuracy", "accuracy_original", "accuracy_paraphrase",
"exact_match", "similarity", "faithfulness", "latency_s", "prompt_tokens", "completion_tokens", "n"}, …},
"rows": [{"item", "variant", "question", "target", "system", "answer", "correct", …}, …],
"complete": true, "model": str, "adapter": str | null, "note": str}``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.common import add_rerank_args, add_retrieval_args, build_retriever, print_json, reranker_from

def add_answer_args(parser) -> None:
    """Flags shared by ``ask`` and ``eval``: the documents, model, adapter and decoding."""
    add_retrieval_args(parser, k_default=None,  # None: core.answering.default_k
                       k_help="chunks in the RAG prompt (default 1 for the built-in model, 3 for real models)")
    add_rerank_args(parser)
    parser.add_argument("--model", default=None, help="generator: hub id or local folder (default: the built-in model for the documents: "
                        "lab-tiny-lm for 🧪 world corpora, lab-english-reader for plain English)")
    parser.add_argument("--adapter", default=None, metavar="DIR", help="LoRA adapter folder (enables lora, lora+rag)")
    parser.add_argument("--max-new-tokens", type=int, default=48, help="answer length cap in tokens (default 48)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    parser.add_argument("--top-k", type=int, default=0, help="sample from the k likeliest tokens (0 = off)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (1 = off)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: fastest for small models)")
    parser.add_argument("--focus", type=int, default=None, metavar="N",
                        help="sentence focus: keep the N sentences of the retrieved chunks that best match the question "
                             "(0 = off; default 2 for the built-in English reader, off for other models)")
    parser.add_argument("--reading", default=None, metavar="JSON",
                        help="the model's reading settings as JSON or a .json file (k, focus, copy, copy_unit, prompt: "
                             "{context_in, question}), over its profile's; see docs/english-model.md")
    parser.add_argument("--int8", action="store_true",
                        help="int8 dynamic quantization of the model's linear layers (faster on CPU, slightly less exact)")
    parser.add_argument("--copy", action=argparse.BooleanOptionalAction, default=None,
                        help="copy decoding: answers are copied sentences of the passages (default on for the built-in "
                             "English reader, off for other models)")


def reading_from(args):
    """``--reading`` (inline JSON or a file) as a ``core.llm.reading.Reading``, or None; ConfigError when bad."""
    import json

    from core.errors import ConfigError
    from core.llm.reading import Reading

    text = getattr(args, "reading", None)
    if not text:
        return None
    try:
        data = json.loads(Path(text).read_text() if text.strip().endswith(".json") else text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--reading must be JSON or a readable .json file ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError("--reading must be a JSON object such as {\"k\": 1, \"prompt\": {\"context_in\": \"user\"}}")
    try:
        return Reading.from_dict(data)
    except TypeError as exc:
        raise ConfigError(f"--reading: {exc}") from exc


def decoding_from(args):
    """The decoding settings of ``args`` (validating ``--focus`` too, before anything slow loads)."""
    from core.answering import Decoding
    from core.rag.focus import check_focus

    if getattr(args, "focus", None) is not None:
        check_focus(args.focus)
    reading_from(args)

    return Decoding(args.max_new_tokens, args.temperature, args.top_k, args.top_p, getattr(args, "copy", None))


PROSE_WARNING = ("note: these documents are plain English, not a 🧪 world corpus, so the built-in English reader "
                 "(lab-english-reader) answers: it copies the sentence that holds the fact. For fluent answers "
                 "add --model HuggingFaceTB/SmolLM2-135M-Instruct (downloaded once).")


def warn_if_unreadable(args) -> None:
    """One line on stderr when the built-in English reader, not the tiny LM, reads the documents (prose)."""
    import sys

    from core.rag.corpora import builtin_model_reads_paths

    if args.model is None and not builtin_model_reads_paths(args.docs):
        print(PROSE_WARNING, file=sys.stderr)


def default_model(docs) -> str:
    """The built-in model for these documents: the tiny LM for 🧪 world corpora, else the English reader."""
    from core.llm.builtin_models import builtin_for
    from core.rag.corpora import builtin_model_reads_paths

    return builtin_for(builtin_model_reads_paths(docs)).name


def answerer_from(args, training_fallback=()):
    """An Answerer over ``--docs`` with the ``--model`` generator and, if given, the ``--adapter``."""
    import torch

    from core.answering import Answerer, TrainingExamples, training_items
    from core.llm.generation import load_generator

    torch.set_num_threads(max(1, args.threads))
    decoding_from(args)  # validate before loading anything slow
    warn_if_unreadable(args)
    retriever, docs = build_retriever(args)
    base = load_generator(args.model or default_model(args.docs))
    if getattr(args, "int8", False):
        from core.llm.quantize import int8_generator

        base = int8_generator(base)
    reading = reading_from(args)
    if reading is not None:
        import dataclasses

        base = dataclasses.replace(base, reading=reading)
    adapter, training = None, None
    if args.adapter:
        from core.finetune import load_adapter

        adapter = load_adapter(base, args.adapter)
        items = training_items(args.adapter, training_fallback)
        training = TrainingExamples.build(retriever.embedder, items) if items else None
    return Answerer(base, retriever, adapter, training, k=args.k, mode=args.mode,
                    reranker=reranker_from(args, retriever.embedder), documents=docs, focus=args.focus)


def add_parser(sub) -> None:
    parser = sub.add_parser("eval", help="accuracy of the five systems over a Q&A set", description=__doc__)
    add_answer_args(parser)
    parser.add_argument("--qa", required=True, metavar="FILE", help="Q&A file (JSONL/JSON/CSV with question, answer[, value])")
    parser.add_argument("--paraphrases", nargs="?", type=int, const=99, default=0, metavar="N",
                        help="also ask up to N paraphrases of each question (all when N is left out)")
    parser.add_argument("--limit", type=int, default=0, help="evaluate only the first N questions")
    parser.add_argument("--csv", default=None, metavar="FILE", help="write the per-question rows to this CSV file")
    parser.add_argument("--json", action="store_true", help="print JSON with per-question rows")
    parser.set_defaults(func=run)


def run(args) -> int:
    import sys

    from core.rag.corpora import load_qa
    from core.evaluation import evaluate, rows_to_csv, specs_for

    qa = load_qa(args.qa)
    qa = qa[: args.limit] if args.limit > 0 else qa
    answerer = answerer_from(args, qa)
    note = "" if answerer.adapter else "no --adapter given: evaluated base, rag and long-context only (lora and lora+rag need an adapter)"
    if note and not args.json:
        print(f"note: {note}", file=sys.stderr)
    result = evaluate(specs_for(answerer), qa, paraphrases=args.paraphrases, decoding=decoding_from(args),
                      embedder=answerer.retriever.embedder)
    if args.csv:
        Path(args.csv).write_text(rows_to_csv(result.rows), encoding="utf-8")
    if args.json:
        print_json({**result.to_dict(), "model": answerer.base.name, "adapter": args.adapter, "note": note})
        return 0
    print_table(result.systems)
    return 0


def fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(systems: dict[str, dict]) -> None:
    print(f"{'system':<24}{'accuracy':>9}{'original':>9}{'paraphr.':>9}{'similar.':>9}{'faithful':>9}"
          f"{'latency_s':>10}{'tokens':>8}{'n':>6}")
    for label, s in systems.items():
        print(f"{label:<24}{fmt(s['accuracy']):>9}{fmt(s['accuracy_original']):>9}{fmt(s['accuracy_paraphrase']):>9}"
              f"{fmt(s['similarity']):>9}{fmt(s['faithfulness']):>9}{fmt(s['latency_s']):>10}"
              f"{fmt(s['completion_tokens'], 1):>8}{s['n']:>6}")
