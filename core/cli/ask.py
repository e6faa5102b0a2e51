"""``python -m core ask``: answer a question with base, RAG, LoRA or LoRA+RAG (or all four).

    python -m core ask --docs PATH... (--question TEXT | --questions-file FILE)
        [--system base|rag|lora|lora+rag|all] [--adapter DIR] [--model NAME_OR_PATH] [-k N] [--json]

JSON (``--json``): ``{"system", "answer", "sources", "prompt_tokens", "completion_tokens",
"latency_s", "settings", "model"}``; a list of those for ``--system all``; with
``--questions-file``, a list with one such result per question. A chunk source is
``{"kind": "chunk", "document", "start", "end", "score", "rank", "text"}``; a LoRA source is
the closest training example ``{"kind": "training_example", "index", "question", "text", "score", "rank"}``.
"""

from __future__ import annotations

from core.cli.common import add_text_inputs, print_json, text_inputs
from core.cli.eval import add_answer_args, answerer_from, decoding_from

CHOICES = ("base", "rag", "lora", "lora+rag", "all")
SCORE_NAMES = {"dense": "cosine", "bm25": "bm25", "hybrid": "rrf"}  # what a chunk's score is, by --mode


def add_parser(sub) -> None:
    parser = sub.add_parser("ask", help="answer a question with base / RAG / LoRA / LoRA+RAG", description=__doc__)
    add_answer_args(parser)
    add_text_inputs(parser, "question", "questions")
    parser.add_argument("--system", choices=CHOICES, default="rag", help="which system answers (default rag)")
    parser.add_argument("--qa", default=None, metavar="FILE",
                        help="the Q&A file the adapter was trained on (for LoRA sources, if the adapter folder lacks it)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args) -> int:
    import sys

    from core.answering import SYSTEMS
    from core.corpora import load_qa
    from core.errors import ConfigError

    questions = text_inputs(args, "question")
    systems = list(SYSTEMS) if args.system == "all" else [args.system]
    if args.adapter is None and any(s.startswith("lora") for s in systems):
        if args.system != "all":
            raise ConfigError(f"--system {args.system} needs --adapter DIR (a LoRA adapter folder from `python -m core finetune`).")
        systems = ["base", "rag"]
        print("note: no --adapter given: answering with base and rag only", file=sys.stderr)
    answerer = answerer_from(args, load_qa(args.qa) if args.qa else ())
    decoding = decoding_from(args)
    results = [answerer.answer_all(q, systems, decoding) for q in questions]
    if args.json:
        rows = [[a.to_dict() for a in answers] if args.system == "all" else answers[0].to_dict() for answers in results]
        print_json(rows[0] if args.question is not None else rows)
        return 0
    score_name = SCORE_NAMES.get(args.mode, "score")
    for question, answers in zip(questions, results):
        print(f"? {question}")
        for a in answers:
            print(f"  [{a.system}] {a.text}")
            print(f"      {a.prompt_tokens} prompt + {a.completion_tokens} answer tokens, {a.latency_s:.2f} s")
            for s in a.sources:
                where = f"{s.document}[{s.start}:{s.end}]" if s.kind == "chunk" else f"training example #{s.index}"
                name = score_name if s.kind == "chunk" else "similarity"
                print(f"      {s.rank}. {name} {s.score:.3f} {where}  {' '.join(s.text.split())[:90]}")
    if args.mode == "hybrid" and any(s.kind == "chunk" for answers in results for a in answers for s in a.sources):
        print("  (rrf = reciprocal-rank fusion of the dense and BM25 lists: 1/(60 + rank) from each, at most "
              "2/61 ≈ 0.033 for a chunk ranked first by both; only the order matters)")
    return 0
