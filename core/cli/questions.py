"""``python -m core questions``: a question bank from documents, made by rules, offline.

    python -m core questions --docs PATH... --out bank.jsonl [--per-doc N] [--paraphrases N]
        [--heldout-share F] [--json]

Each line of ``bank.jsonl`` is one question: ``{"question", "answer", "value", "document", "start", "end",
"chunk", "kind", "split", "paraphrases", "sentence"}``. ``value`` is the exact span of the document that
makes an answer right (``text[start:end] == value``, character offsets of the document as the Lab reads
it); ``answer`` is a full sentence that holds it; ``chunk`` is the index, within its document, of the
first chunk (the Lab's default chunking) that holds the value; ``kind`` is who, when, where, how much,
how many, how long or what; ``split`` is ``train`` (the wordings a fine-tune learns: ``question`` and
``paraphrases``) or ``heldout`` (the same fact in a wording no train row uses). The file is a Q&A set for
``finetune --qa`` (held-out rows are left out of training) and ``eval --qa``.

Bad input exits with status 2 and one line: no documents, an empty or binary file, ``--per-doc 0``, a
document with no sentence, or documents in which no fact was found.

JSON (``--json``): ``{"out", "items", "facts", "train", "heldout", "repeat_rate", "by_document": {name: n},
"by_kind": {kind: n}, "rejected": [{"question", "value", "document", "rule"}, …]}``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.cli.common import print_json


def add_parser(sub) -> None:
    parser = sub.add_parser("questions", help="make a question bank from documents (offline, by rules)",
                            description=__doc__)
    parser.add_argument("--docs", nargs="+", required=True, metavar="PATH", help="files and folders to ask about")
    parser.add_argument("--out", required=True, metavar="FILE", help="the bank, one JSON line per question")
    parser.add_argument("--per-doc", type=int, default=20, metavar="N", help="facts per document")
    parser.add_argument("--paraphrases", type=int, default=3, metavar="N", help="training wordings per fact besides the question")
    parser.add_argument("--heldout-share", type=float, default=0.3, metavar="F",
                        help="share of facts that also get a held-out wording")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(func=run)


def run(args) -> int:
    from core.questions import BankConfig, make_bank
    from core.questions.quality import bank_stats, default_chunks, write_bank
    from core.rag.documents import load_paths
    from core.errors import EmptyCorpus

    config = BankConfig(per_doc=args.per_doc, paraphrases=args.paraphrases, heldout_share=args.heldout_share)
    docs = load_paths(args.docs)
    if not docs:
        raise EmptyCorpus("no documents: give --docs files or folders that hold .txt, .md, .pdf, .docx or .html files")
    bank = make_bank(docs, config, chunks=default_chunks(docs))
    write_bank(bank.items, Path(args.out))
    stats = {"out": args.out, **bank_stats(bank.items),
             "rejected": [r.__dict__ for r in bank.rejected]}
    if args.json:
        print_json(stats)
        return 0
    print(f"{stats['items']} questions about {stats['facts']} facts ({stats['train']} train, {stats['heldout']} held-out) "
          f"-> {args.out}")
    print(f"repeated questions: {stats['repeat_rate']:.0%}; by kind: "
          + ", ".join(f"{k} {n}" for k, n in stats["by_kind"].items()))
    print(f"rejected candidates: {len(bank.rejected)}", file=sys.stderr)
    return 0
