"""``python -m core edit``: change one fact in the model's weights (a ROME-style rank-one edit) and measure it.

    python -m core edit --qa sample_data/world_arcade/qa.jsonl --question "How much is the Wilarmore Blender?" \\
        --new-value '$99.00' [--docs sample_data/world_arcade/docs] [--layer N] [--others N] [--model NAME] [--json]

The fact is the Q&A row asked by ``--question`` (or one of its paraphrases); its ``entity`` is the
subject whose key is edited. The edit is applied to a copy of the model and measured on the
question (reliability), its paraphrases (generality) and ``--others`` questions about other
entities (locality: their answers must not change).

JSON (``--json``): ``{"question", "subject", "old_value", "new_value", "layer", "reliability",
"generality", "locality", "answers": {"question"|"paraphrases"|"others": [{"question", "before",
"after", "ok"}]}, "seconds", "trials": [{"layer", "reliability", "generality", "locality", "delta_norm"}]}``.
"""

from __future__ import annotations

from core.cli.common import print_json


def add_parser(sub) -> None:
    parser = sub.add_parser("edit", help="edit one fact in the weights (rank-one, ROME-style) and measure it",
                            description=__doc__)
    parser.add_argument("--qa", required=True, metavar="FILE", help="Q&A file whose rows name their entity")
    parser.add_argument("--question", required=True, help="the question of the fact to edit")
    parser.add_argument("--new-value", required=True, help="the value the model should now give")
    parser.add_argument("--docs", nargs="*", default=None, metavar="PATH",
                        help="documents whose text estimates which directions other facts use (default: the Q&A answers)")
    parser.add_argument("--layer", type=int, default=None, help="edit this layer only (default: try each, keep the best)")
    parser.add_argument("--others", type=int, default=10, help="questions about other entities for locality (default 10)")
    parser.add_argument("--model", default=None, help="generator: hub id or local folder (default: built-in tiny LM)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args) -> int:
    from core.rag.corpora import load_qa
    from core.rag.documents import load_paths
    from core.llm.editing import EditConfig, edit_fact_in_weights, locality_questions
    from core.errors import ConfigError
    from core.llm.loading import load_generator

    if not 0 <= args.others <= 100:
        raise ConfigError(f"--others must be between 0 and 100 (got {args.others})")
    qa = load_qa(args.qa)
    q = args.question.strip().lower()
    item = next((it for it in qa if q in {it.question.lower(), *(p.lower() for p in it.paraphrases)}), None)
    if item is None:
        raise ConfigError(f"no row of {args.qa} asks {args.question!r}")
    config = EditConfig(layers=(args.layer,) if args.layer is not None else None)
    texts = [d.text for d in load_paths(args.docs)] if args.docs else ()
    gen = load_generator(args.model)
    result = edit_fact_in_weights(gen, item, args.new_value, others=locality_questions(qa, item, args.others),
                                  texts=texts, config=config)
    if args.json:
        print_json(result.to_dict())
        return 0
    print(f"edited layer {result.layer} of {gen.name} in {result.seconds:.1f} s: {result.subject} → {result.new_value}")
    print(f"  reliability {result.reliability:.2f}   generality {result.generality:.2f}   locality {result.locality:.2f}")
    for kind in ("question", "paraphrases", "others"):
        for row in result.answers[kind]:
            print(f"  [{kind}] {'✓' if row['ok'] else '✗'} {row['question']}\n      before: {row['before']}\n      after:  {row['after']}")
    return 0
