"""``python -m core finetune``: LoRA-train a model on a Q&A file (or document text) and save the adapter.

JSON (``--json``): ``{"final_train_loss", "final_eval_loss", "facts_recalled", "seconds",
"trainable_params", "total_params", "open_book_accuracy", "paraphrase_recalled",
"seconds_to_80", "steps", "adapter_dir", "status"}``; the adapter folder holds
``adapter_model.safetensors``, ``adapter_config.json`` and ``metrics.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.cli.common import print_json



def add_parser(sub) -> None:
    # Unset flags stay None and FinetuneConfig's defaults apply (it is not imported here: torch is slow to load).
    parser = sub.add_parser("finetune", help="LoRA fine-tune on Q&A pairs", description=__doc__)
    parser.add_argument("--qa", required=True, help="Q&A file (JSONL or CSV with question and answer)")
    parser.add_argument("--docs", nargs="+", default=[], metavar="PATH",
                        help="documents: passages for open-book examples, and the text for --data text")
    parser.add_argument("--data", choices=("qa", "text"), help="Q&A pairs (default) or raw document text")
    parser.add_argument("--paraphrases", type=int, help="paraphrases per question to add (default 0)")
    parser.add_argument("--out", required=True, help="folder for the adapter and metrics.json")
    parser.add_argument("--epochs", type=int, help="passes over the training set")
    parser.add_argument("--steps", type=int, dest="max_steps", help="optimiser steps (overrides --epochs)")
    parser.add_argument("--rank", type=int, help="LoRA rank r")
    parser.add_argument("--alpha", type=float, help="LoRA alpha (default 2 × rank)")
    parser.add_argument("--lr", type=float, dest="learning_rate", help="learning rate")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--targets", nargs="+", dest="target_modules", help="linear layers to adapt")
    parser.add_argument("--open-book-mix", type=float, help="fraction of facts also trained with their passage")
    parser.add_argument("--val-fraction", type=float, help="fraction of facts held out for the eval loss")
    parser.add_argument("--eval-every", type=int, help="steps between evaluations")
    parser.add_argument("--method", choices=("lora", "full"))
    parser.add_argument("--seed", type=int)
    parser.add_argument("--model", default=None, help="generator name or path (default: the built-in tiny LM)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(func=run)


CONFIG_FLAGS = ("method", "rank", "alpha", "target_modules", "learning_rate", "epochs", "max_steps", "batch_size",
                "seed", "data", "paraphrases", "open_book_mix", "eval_every", "val_fraction")


def config_from_args(args):
    from core.finetune import FinetuneConfig

    kwargs = {k: getattr(args, k) for k in CONFIG_FLAGS if getattr(args, k, None) is not None}
    if "rank" in kwargs and "alpha" not in kwargs:
        kwargs["alpha"] = 2.0 * kwargs["rank"]
    if "target_modules" in kwargs:
        kwargs["target_modules"] = tuple(kwargs["target_modules"])
    return FinetuneConfig(**kwargs)


def load_base(name: str | None):
    """(model, tokenizer, name) through core.generation (a plain local folder also works without it)."""
    try:
        from core.generation import load_generator
    except ImportError:
        load_generator = None
    if load_generator is not None:
        gen = load_generator(name)
        return gen.model, gen.tokenizer, gen.name
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = name or "models/lab-tiny-lm"
    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path), Path(path).name


def run(args) -> int:
    from core.corpora import load_qa
    from core.finetune import train
    from core.finetune_data import build_data, read_documents

    config = config_from_args(args)  # validate before loading anything slow
    items = load_qa(args.qa)
    documents = read_documents(args.docs)
    model, tokenizer, name = load_base(args.model)
    data = build_data(tokenizer, items, config, documents)

    def on_eval(row: dict) -> None:
        if not args.json:
            print(f"step {row['step']:>4}  eval loss {row['eval_loss']}  facts recalled {row['facts_recalled']}  "
                  f"open-book {row['open_book_accuracy']}", file=sys.stderr, flush=True)

    result = train(model, tokenizer, data, config, Path(args.out), base_name=name, on_eval=on_eval)
    summary = result.summary()
    if args.json:
        print_json(summary)
    else:
        for key, value in summary.items():
            print(f"{key:>20}: {value}")
    return 0
