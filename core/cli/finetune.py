"""``python -m core finetune``: LoRA-train a model on a Q&A file (or document text) and save the adapter.

JSON (``--json``): ``{"final_train_loss", "final_eval_loss", "facts_recalled", "seconds",
"trainable_params", "total_params", "open_book_accuracy", "paraphrase_recalled",
"seconds_to_80", "steps", "adapter_dir", "status", "preset", "model", "model_choice", "runner",
"worker_pid"}``; the adapter
folder holds ``adapter_model.safetensors``, ``adapter_config.json`` and ``metrics.json``.

The run goes through the Lab's job owner: in this process, or on the Ray cluster that
``--ray ADDRESS`` (or ``$RAGFT_RAY_ADDRESS``) names (``"runner": "ray"`` and the worker's pid).

The model is ``--model`` if given, else the one rule (``core.llm.choice.choose_model``) over the
``--docs``, or the ``--qa`` pairs' text when there are no documents: 🧪 world text trains the tiny LM,
plain English the English model. The choice and its reason go to stderr (JSON: ``model_choice``);
the adapter folder records its base, and ``ask``/``eval --adapter`` load that base.

Settings start from the model's preset (``--preset auto``: the first preset of the model's profile,
"facts" for a real causal LM without one; see ``core.finetune.presets``); each flag given
overrides its value. Settings the chosen model cannot use exit with status 2 and one line, and so does a
run whose first measured step (its heaviest batch, on a copy of the model) peaks over the server's memory
limit per job (``RAGFT_MAX_JOB_MEMORY_MB``, docs/limits.md): the Fine-tuning page's gate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.common import add_ray_arg, print_json



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
    parser.add_argument("--micro-batch-size", type=int, help="examples per forward pass (gradients accumulate)")
    parser.add_argument("--max-facts", type=int, help="train on this many facts (0 = all)")
    parser.add_argument("--stop-at-recall", type=float, help="stop once facts recalled reaches this (0 = off)")
    parser.add_argument("--gradient-checkpointing", action="store_true", default=None,
                        help="recompute activations in the backward pass (less memory, slower)")
    parser.add_argument("--upper-layers", type=float, help="share of the blocks, from the top, that get adapters "
                        "(1 = all; 0.5 = the upper half, the lower half stays frozen)")
    parser.add_argument("--loss-on", choices=("answer", "all"), help="learn the answer tokens only, or the prompt too")
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                        help="bfloat16 autocast in training steps (evaluations stay fp32)")
    parser.add_argument("--threads", type=int, help="torch threads while training (0 = 1 on 2-core machines)")
    parser.add_argument("--preset", default="auto", metavar="NAME",
                        help="starting settings: auto = the model profile's first preset, facts for "
                             "a real causal LM without one; also quick, thorough")
    parser.add_argument("--model", default=None, help="generator: a built-in name, hub id or folder (default: the "
                        "built-in model for the --docs, else the --qa text: lab-tiny-lm for 🧪 world text, "
                        "smollm2-135m-instruct for plain English)")
    add_ray_arg(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(func=run)


CONFIG_FLAGS = ("method", "rank", "alpha", "target_modules", "learning_rate", "epochs", "max_steps", "batch_size",
                "seed", "data", "paraphrases", "open_book_mix", "eval_every", "val_fraction", "micro_batch_size",
                "max_facts", "stop_at_recall", "gradient_checkpointing", "upper_layers", "loss_on", "bf16", "threads")


def config_overrides(args) -> dict:
    """The FinetuneConfig fields the flags set (alpha follows rank unless given)."""
    kwargs = {k: getattr(args, k) for k in CONFIG_FLAGS if getattr(args, k, None) is not None}
    if "rank" in kwargs and "alpha" not in kwargs:
        kwargs["alpha"] = 2.0 * kwargs["rank"]
    if "target_modules" in kwargs:
        kwargs["target_modules"] = tuple(kwargs["target_modules"])
    return kwargs


def config_from_args(args, base=None):
    """The flags over ``base`` (a FinetuneConfig; default: its defaults). Raises ConfigError for bad values."""
    import dataclasses

    from core.finetune import FinetuneConfig

    return dataclasses.replace(base or FinetuneConfig(), **config_overrides(args))


def load_base(name: str | None, cache: bool = True):
    """(model, tokenizer, name) through core.llm.generation (a plain local folder also works without it)."""
    gen = load_generator_for(name, cache)
    return gen.model, gen.tokenizer, gen.name


def load_generator_for(name: str | None, cache: bool = True, on_fetch=None):
    from core.llm.loading import load_generator

    return load_generator(name, cache=cache, on_fetch=on_fetch)


def run(args) -> int:
    from core.rag.corpora import load_qa
    from core.errors import ConfigError
    from core.finetune import check_targets
    from core.finetune.data import build_data, read_documents
    from core.finetune.job import training_spec, training_work
    from core.finetune.presets import memory_refusal, preset_named
    from core.runtime.jobs import Job, JobContext

    from core.cli.common import choice_dict, fetch_printer, model_for, run_job, say_choice
    from core.questions.bank import training_items

    config_from_args(args)  # validate the flags before loading anything slow
    items = training_items(load_qa(args.qa))  # a question bank's held-out wordings test, never train
    documents = read_documents(args.docs)
    wanted, choice = model_for(args, items)  # --model, else the rule over --docs, else over the --qa text
    gen = load_generator_for(wanted, cache=False, on_fetch=fetch_printer(args))  # private: training wraps it
    model, tokenizer, name = gen.model, gen.tokenizer, gen.name
    preset = preset_named(model, gen.profile, args.preset)
    config = config_from_args(args, preset.config)
    check_targets(model, config)
    data = build_data(tokenizer, items, config, documents, seq2seq=gen.is_seq2seq, style=gen.profile.prompt)  # bad data: one line, before any job
    if refusal := memory_refusal(model, tokenizer, data, config):  # the server's per-job memory bound, measured
        raise ConfigError(refusal)
    say_choice(args, choice)  # after every check that exits with one line, before the long part
    out = Path(args.out)
    said: set[int] = set()

    def work(ctx) -> dict:
        def report(row: dict) -> None:  # one line per evaluation, as the run reports it
            if not args.json and "eval_step" in row and row["eval_step"] not in said:
                said.add(row["eval_step"])
                print(f"step {row['eval_step']:>4}  eval loss {row.get('eval_loss')}  facts recalled "
                      f"{row.get('facts_recalled')}  open-book {row.get('open_book_accuracy')}", file=sys.stderr,
                      flush=True)
            ctx.report(row)

        try:
            return training_work(JobContext(ctx.should_stop, report, ctx.started), model, tokenizer, items, config,
                                 out, documents, (), name, copy_base=False, style=gen.profile.prompt)
        except (ValueError, RuntimeError, TypeError, KeyError) as exc:  # settings this model cannot train with
            raise ConfigError(f"training {name} with these settings failed: {type(exc).__name__}: "
                              f"{' '.join(str(exc).split())[:300]}") from exc

    spec = training_spec(name, gen.n_params, items, config, out, documents)
    status = run_job(args, Job(owner="cli", run_dir=out, work=work, label=out.name, spec=spec))
    summary = {**status.result, "preset": preset.name, "model": name,
               "model_choice": choice_dict(name, choice), "runner": status.runner, "worker_pid": status.worker_pid}
    for measured_on_the_worker in ("peak_rss_mb", "work_seconds"):  # in metrics.json, not in the summary
        summary.pop(measured_on_the_worker, None)
    if args.json:
        print_json(summary)
    else:
        for key, value in summary.items():
            print(f"{key:>20}: {value}")
    return 0
