"""``python -m core eval``: accuracy of base / RAG / LoRA / LoRA+RAG / long context over a Q&A set.

    python -m core eval --docs sample_data/world_arcade/docs --qa sample_data/world_arcade/qa.jsonl \\
        [--adapter DIR] [--paraphrases [N]] [--model NAME_OR_PATH] [-k N] [--limit N] [--csv FILE] [--json]

An answer is correct when it contains the row's ``value`` (else its ``answer``), after
lower-casing. Each row also says why a wrong answer failed (``failure``: not_in_corpus, not_retrieved,
cut_from_prompt, in_prompt_unused or not_learned; docs/failures.md), with the texts that decide it.
Without ``--adapter`` only base, rag and long-context are evaluated (and the output says so).

JSON (``--json``): ``{"systems": {"base": {"accuracy", "accuracy_original", "accuracy_paraphrase",
"exact_match", "similarity", "faithfulness", "latency_s", "prompt_tokens", "completion_tokens", "n",
"failures": {label: count}}, …}, "rows": [{"item", "variant", "question", "target", "system", "answer", "correct", …,
"failure", "detail", "retrieved": [{"chunk", "rank", "text"}] | null, "in_prompt": [str] | null}, …],
"complete": true, "model": str, "model_choice": {"name", "why"}, "adapter": str | null, "note": str, "runner": "local" | "ray",
"worker_pid": int}``.

Which model answers: ``--model`` if given; else the base the ``--adapter`` was trained on; else the
one rule (``core.llm.choice.choose_model``) from the documents. The choice and its reason go to
stderr (and into the JSON as ``model_choice``). ``--model`` naming another base than the adapter's
exits with status 2.

The evaluation is a job of the Lab's job owner: in this process, or on the Ray cluster that
``--ray ADDRESS`` (or ``$RAGFT_RAY_ADDRESS``) names (documents, adapter and workspace are then
given to the worker as absolute paths: the cluster must see the same files).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.common import (add_ray_arg, add_rerank_args, add_retrieval_args, build_retriever, choice_dict,
                             fetch_printer, model_for, print_json, reranker_from, run_job, say_choice)

def add_answer_args(parser) -> None:
    """Flags shared by ``ask`` and ``eval``: the documents, model, adapter and decoding."""
    add_retrieval_args(parser, k_default=None,  # None: core.answering.default_k
                       k_help="chunks in the RAG prompt (default 1 for the built-in model, 3 for real models)")
    add_rerank_args(parser)
    parser.add_argument("--model", default=None, help="generator: a built-in name, hub id or local folder (default: "
                        "the --adapter's base, else the built-in model for the documents: lab-tiny-lm for 🧪 world "
                        "text, smollm2-135m-instruct for plain English; lab-english-reader is the instant tier)")
    parser.add_argument("--adapter", default=None, metavar="DIR", help="LoRA adapter folder (enables lora, lora+rag)")
    parser.add_argument("--max-new-tokens", type=int, default=48, help="answer length cap in tokens (default 48)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    parser.add_argument("--top-k", type=int, default=0, help="sample from the k likeliest tokens (0 = off)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (1 = off)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: fastest for small models)")
    parser.add_argument("--focus", type=int, default=None, metavar="N",
                        help="sentence focus: keep the N sentences of the retrieved chunks that best match the question "
                             "(0 = off; default: the model profile's, 2 for the English models, off for others)")
    parser.add_argument("--reading", default=None, metavar="JSON",
                        help="the model's reading settings as JSON or a .json file (k, focus, copy, copy_unit, prompt: "
                             "{context_in, question}), over its profile's; see docs/english-model.md")
    parser.add_argument("--int8", action="store_true",
                        help="int8 dynamic quantization of the model's linear layers (faster on CPU, slightly less exact)")
    parser.add_argument("--copy", action=argparse.BooleanOptionalAction, default=None,
                        help="copy decoding: answers are copied sentences of the passages (default: the model "
                             "profile's: on for the English reader, off for others)")


def reading_from(args) -> dict | None:
    """``--reading`` (inline JSON or a .json file) as a dict of reading settings, or None; ConfigError when bad.

    The settings replace the model profile's (``core.llm.reading.with_reading``, which validates them).
    """
    import json

    from core.errors import ConfigError

    text = getattr(args, "reading", None)
    if not text:
        return None
    try:
        data = json.loads(Path(text).read_text() if text.strip().endswith(".json") else text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--reading must be JSON or a readable .json file ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError("--reading must be a JSON object such as {\"k\": 1, \"prompt\": {\"context_in\": \"user\"}}")
    from core.llm.profiles import ModelProfile
    from core.llm.reading import with_reading

    with_reading(type("Probe", (), {"profile": ModelProfile()})(), data)  # validate before anything slow loads
    return data


def decoding_from(args):
    """The decoding settings of ``args`` (validating ``--focus`` too, before anything slow loads)."""
    from core.answering import Decoding
    from core.rag.focus import check_focus

    if getattr(args, "focus", None) is not None:
        check_focus(args.focus)
    reading_from(args)
    return Decoding(args.max_new_tokens, args.temperature, args.top_k, args.top_p, getattr(args, "copy", None))


def answerer_from(args, training_fallback=()):
    """An Answerer over ``--docs`` with the ``--model`` generator and, if given, the ``--adapter``."""
    import torch

    from core.answering import Answerer, TrainingExamples, training_items
    from core.llm.loading import load_generator

    torch.set_num_threads(max(1, args.threads))
    decoding_from(args)  # validate before loading anything slow
    name, choice = model_for(args, training_fallback or None)
    retriever, docs = build_retriever(args)
    base = load_generator(name, on_fetch=fetch_printer(args))
    args.model_choice = choice_dict(base.name, choice)  # for the JSON output
    if getattr(args, "int8", False):
        from core.llm.quantize import int8_generator

        base = int8_generator(base)
    reading = reading_from(args)
    if reading:
        from core.llm.reading import with_reading

        base = with_reading(base, reading)
    adapter, training = None, None
    if args.adapter:
        from core.finetune import load_adapter

        adapter = load_adapter(base, args.adapter)
        items = training_items(args.adapter, training_fallback)
        training = TrainingExamples.build(retriever.embedder, items) if items else None
    answerer = Answerer(base, retriever, adapter, training, k=args.k, mode=args.mode,
                        reranker=reranker_from(args, retriever.embedder), documents=docs, focus=args.focus)
    say_choice(args, choice)  # once everything loaded: a bad flag or adapter still exits with one line
    return answerer


def add_parser(sub) -> None:
    parser = sub.add_parser("eval", help="accuracy of the five systems over a Q&A set", description=__doc__)
    add_answer_args(parser)
    parser.add_argument("--qa", required=True, metavar="FILE", help="Q&A file (JSONL/JSON/CSV with question, answer[, value])")
    parser.add_argument("--paraphrases", nargs="?", type=int, const=99, default=0, metavar="N",
                        help="also ask up to N paraphrases of each question (all when N is left out)")
    parser.add_argument("--limit", type=int, default=0, help="evaluate only the first N questions")
    parser.add_argument("--csv", default=None, metavar="FILE", help="write the per-question rows to this CSV file")
    parser.add_argument("--json", action="store_true", help="print JSON with per-question rows")
    add_ray_arg(parser)
    parser.set_defaults(func=run)


NO_ADAPTER = "no --adapter given: evaluated base, rag and long-context only (lora and lora+rag need an adapter)"


def evaluate_args(args, qa, ctx):
    """The evaluation the flags ask for, as a job's work (here or on a Ray worker): (result, model name, choice)."""
    from core.evaluation import evaluate, specs_for

    answerer = answerer_from(args, qa)
    result = evaluate(specs_for(answerer), qa, paraphrases=args.paraphrases, decoding=decoding_from(args),
                      embedder=answerer.retriever.embedder)
    return result, answerer.base.name, args.model_choice


def portable(args):
    """``args`` with the paths a worker reads made absolute (a worker runs in another folder, maybe another host)."""
    from core.finetune.job import model_ref
    from core.runtime.workspace import default_root

    absolute = lambda p: str(Path(p).expanduser().resolve())  # noqa: E731
    return argparse.Namespace(**{**vars(args), "docs": [absolute(p) for p in args.docs],
                                 "adapter": args.adapter and absolute(args.adapter),
                                 "model": args.model and model_ref(args.model),
                                 "workspace": absolute(args.workspace or default_root())})


def run(args) -> int:
    import functools
    import sys

    from core.rag.corpora import load_qa
    from core.evaluation import rows_to_csv
    from core.runtime.jobs import Job

    decoding_from(args)  # bad flags: one line, before any job
    qa = load_qa(args.qa)
    qa = qa[: args.limit] if args.limit > 0 else qa
    note = "" if args.adapter else NO_ADAPTER
    if note and not args.json:
        print(f"note: {note}", file=sys.stderr)
    work = functools.partial(evaluate_args, portable(args), qa)
    status = run_job(args, Job(owner="cli", run_dir=None, work=work, label="eval", lane="eval", spec=work))
    result, model, model_choice = status.result
    if args.csv:
        Path(args.csv).write_text(rows_to_csv(result.rows), encoding="utf-8")
    if args.json:
        print_json({**result.to_dict(), "model": model, "model_choice": model_choice, "adapter": args.adapter,
                    "note": note, "runner": status.runner, "worker_pid": status.worker_pid})
        return 0
    print_table(result.systems)
    print_failures(result.systems)
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


def print_failures(systems: dict[str, dict]) -> None:
    """Why the answers failed: how many rows of each system carry each label (``core.failures``)."""
    from core.failures import LABELS

    print(f"\n{'why (answers)':<24}" + "".join(f"{label:>18}" for label in LABELS))
    for label, s in systems.items():
        print(f"{label:<24}" + "".join(f"{s['failures'][x]:>18}" for x in LABELS))
