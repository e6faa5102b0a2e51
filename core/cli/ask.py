"""``python -m core ask``: answer a question with base, RAG, LoRA, LoRA+RAG or long context (or all five).

    python -m core ask --docs PATH... (--question TEXT | --questions-file FILE)
        [--system base|rag|lora|lora+rag|long-context|all] [--adapter DIR] [--model NAME_OR_PATH] [-k N] [--json]

JSON (``--json``): ``{"system", "answer", "sources", "prompt_tokens", "completion_tokens",
"latency_s", "settings", "model", "model_choice"}`` (``model_choice``: ``{"name", "why"}``, which model
answers and why: see ``python -m core eval --help``); a list of those for ``--system all``; with
``--questions-file``, a list with one such result per question. A chunk source is
``{"kind": "chunk", "document", "start", "end", "score", "rank", "text"[, "first_stage_rank"]}`` (``--rerank``,
as in ``search``; ``first_stage_rank`` is the rank before reranking); a LoRA source is
the closest training example ``{"kind": "training_example", "index", "question", "text", "score", "rank"}``.
A long-context answer adds ``"corpus_share"`` (the share of the corpus's tokens that fit in the prompt);
its sources are the documents it read ``{"kind": "document", "document", "start", "end", "score", "rank", "text"}``
(``score``: the share of that document that fit).

``--confidence`` adds ``"tokens"`` (each answer token with the probability the model gave it) and,
with ``--reference VALUE`` (or a ``--qa`` row for the question), ``"reference"``: the probability of
that value, teacher-forced inside one reference sentence shared by every system (the Q&A row's
answer, else the first answer that contains the value).
``--attribution`` adds ``"attribution"`` to answers that read chunks or documents: ``{"passages": [[{"start",
"end", "weight"}, …] per source], "tokens": [...], "in_context"}`` (``core.llm.attribution``); null for the others.
"""

from __future__ import annotations

from core.cli.common import add_text_inputs, print_json, text_inputs
from core.cli.eval import add_answer_args, answerer_from, decoding_from

CHOICES = ("base", "rag", "lora", "lora+rag", "long-context", "all")
SCORE_NAMES = {"dense": "cosine", "bm25": "bm25", "hybrid": "rrf"}  # what a chunk's score is, by --mode


def add_parser(sub) -> None:
    parser = sub.add_parser("ask", help="answer a question with base / RAG / LoRA / LoRA+RAG / long context", description=__doc__)
    add_answer_args(parser)
    add_text_inputs(parser, "question", "questions")
    parser.add_argument("--system", choices=CHOICES, default="rag", help="which system answers (default rag)")
    parser.add_argument("--qa", default=None, metavar="FILE",
                        help="the Q&A file the adapter was trained on (for LoRA sources, if the adapter folder lacks it)")
    parser.add_argument("--confidence", action="store_true",
                        help="add each answer token's probability (and --reference's) to the output")
    parser.add_argument("--attribution", action="store_true",
                        help="add, for answers that read chunks, the chunk spans the answer attended to most")
    parser.add_argument("--reference", default=None, metavar="VALUE",
                        help="with --confidence: the right value, scored by each system (teacher-forced)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args) -> int:
    import sys

    from core.answering import SYSTEMS
    from core.rag.corpora import load_qa
    from core.errors import ConfigError

    questions = text_inputs(args, "question")
    systems = list(SYSTEMS) if args.system == "all" else [args.system]
    if args.adapter is None and any(s.startswith("lora") for s in systems):
        if args.system != "all":
            raise ConfigError(f"--system {args.system} needs --adapter DIR (a LoRA adapter folder from `python -m core finetune`).")
        systems = [s for s in SYSTEMS if not s.startswith("lora")]
        print(f"note: no --adapter given: answering with {', '.join(systems)} only", file=sys.stderr)
    qa = load_qa(args.qa) if args.qa else []
    answerer = answerer_from(args, qa)
    decoding = decoding_from(args)
    results = [answerer.answer_all(q, systems, decoding) for q in questions]
    dicts = [[{**a.to_dict(), "model_choice": args.model_choice} for a in answers] for answers in results]
    if args.confidence:
        from core.llm.confidence import answer_confidence, reference_frame

        for question, answers, rows in zip(questions, results, dicts):
            value, frame = reference_frame(question, answers, qa, args.reference)
            for a, row in zip(answers, rows):
                row.update(answer_confidence(answerer, question, a, value, frame))
    if args.attribution:
        from core.llm.attribution import attribute_answer

        for question, answers, rows in zip(questions, results, dicts):
            for a, row in zip(answers, rows):
                row["attribution"] = attribute_answer(answerer, question, a)
    if args.json:
        rows = [d if args.system == "all" else d[0] for d in dicts]
        print_json(rows[0] if args.question is not None else rows)
        return 0
    reranked = getattr(args, "rerank", "none") not in (None, "none")
    score_name = f"rerank:{args.rerank}" if reranked else SCORE_NAMES.get(args.mode, "score")
    for question, answers, rows in zip(questions, results, dicts):
        print(f"? {question}")
        for a, row in zip(answers, rows):
            print(f"  [{a.system}] {a.text}")
            if "tokens" in row:
                print("      " + " ".join(f"{t['text'].strip()}({t['prob']:.2f})" for t in row["tokens"]))
            if row.get("reference"):
                print(f"      p({row['reference']['value']}) = {row['reference']['prob']:.4f}")
            if row.get("attribution"):
                top = sorted(((sp["weight"], i, sp) for i, spans in enumerate(row["attribution"]["passages"])
                              for sp in spans), key=lambda t: -t[0])[:5]
                words = [a.sources[i].text[sp["start"]:sp["end"]].strip() for _, i, sp in top]
                print(f"      attended most to: {', '.join(repr(w) for w in words)} "
                      f"({row['attribution']['in_context']:.0%} of attention on the chunks)")
            print(f"      {a.prompt_tokens} prompt + {a.completion_tokens} answer tokens, {a.latency_s:.2f} s")
            if a.corpus_share is not None:
                print(f"      {a.corpus_share:.0%} of the corpus fit in the prompt")
            for s in a.sources:
                where = f"{s.document}[{s.start}:{s.end}]" if s.kind != "training_example" else f"training example #{s.index}"
                name = {"chunk": score_name, "document": "share read"}.get(s.kind, "similarity")
                print(f"      {s.rank}. {name} {s.score:.3f} {where}  {' '.join(s.text.split())[:90]}")
    if reranked and any(s.kind == "chunk" for answers in results for a in answers for s in a.sources):
        print(f"  (rerank:{args.rerank} = the reranker's score: the first stage's top {args.candidates} re-ordered "
              "(see the README's Reranking section); only the order matters)")
    if args.mode == "hybrid" and not reranked and any(s.kind == "chunk" for answers in results for a in answers for s in a.sources):
        print("  (rrf = reciprocal-rank fusion of the dense and BM25 lists: 1/(60 + rank) from each, at most "
              "2/61 ≈ 0.033 for a chunk ranked first by both; only the order matters)")
    return 0
