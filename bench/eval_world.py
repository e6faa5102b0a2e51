"""Batch evaluation on the world corpora: base / RAG / FT-reg / FT-par / FT+RAG, Ovadia et al. 2023 style.

Usage: python bench/eval_world.py [--paraphrases N] [--limit N] [--model NAME] [--corpora NAME...] [--retrain] [--json FILE]

For each world corpus (``builtin_model_reads: true``) it trains two LoRA adapters with
``FinetuneConfig`` defaults (FT-reg: the plain Q&A pairs; FT-par: plus one paraphrase per
question), or reuses them from ``<workspace>/bench/adapters``, then asks every question as
written and as ``N`` paraphrases no adapter trained on, and prints accuracy per system.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.answering import Answerer  # noqa: E402
from core.rag.corpora import list_corpora, load_qa  # noqa: E402
from core.rag.documents import load_paths  # noqa: E402
from core.rag.embedding import EmbeddingCache, load_embedder  # noqa: E402
from core.evaluation import evaluate, ovadia_specs  # noqa: E402
from core.experiments import OVADIA_2023  # noqa: E402
from core.finetune.forgetting import general_items  # noqa: E402
from core.rag.retrieval import Retriever  # noqa: E402
from core.runtime.workspace import Workspace, default_root  # noqa: E402

VARIANTS = {"lora": 0, "lora (paraphrases)": 1}  # adapter label → paraphrases trained per question
ORDER = ["base", "rag", "lora", "lora (paraphrases)", "lora+rag", "lora (paraphrases)+rag"]


def adapter_for(base, corpus, qa, docs, folder: Path, paraphrases: int, args) -> Path:
    """Train (or reuse) a default LoRA adapter for this corpus; evaluations only at the start and end."""
    from core.finetune import FinetuneConfig, train
    from core.finetune.data import build_data
    from core.finetune.io import weights_kind

    out = folder / f"{corpus.name}-{'ft-par' if paraphrases else 'ft-reg'}"
    if weights_kind(out) and not args.retrain:
        return out
    config = FinetuneConfig(paraphrases=paraphrases, eval_every=10_000, max_steps=args.max_steps)
    data = build_data(base.tokenizer, qa, config, {d.name: d.text for d in docs}, style=base.profile.prompt)
    t0 = time.perf_counter()
    run = train(base.model, base.tokenizer, data, config, out, base_name=base.name, general_items=general_items(base.profile.forgetting))
    print(f"  trained {out.name}: {len(run.steps)} steps in {time.perf_counter() - t0:.0f} s, "
          f"facts recalled {run.summary()['facts_recalled']}", flush=True)
    return out


def eval_corpus(corpus, base, embedder, cache, args) -> dict:
    from core.finetune import load_adapter

    docs, qa = load_paths([corpus.docs_path]), load_qa(corpus.qa_path)
    retriever = Retriever.build(docs, embedder, cache=cache)
    folder = Workspace(default_root()).root / "bench" / "adapters"
    adapted = {label: Answerer(base, retriever, load_adapter(base, adapter_for(base, corpus, qa, docs, folder, n, args)))
               for label, n in VARIANTS.items()}
    specs = ovadia_specs(Answerer(base, retriever), adapted)
    items = qa[: args.limit] if args.limit else qa
    t0 = time.perf_counter()
    result = evaluate(specs, items, paraphrases=args.paraphrases, embedder=embedder)
    print(f"  evaluated {len(result.rows)} answers in {time.perf_counter() - t0:.0f} s", flush=True)
    return result.systems


def print_table(name: str, systems: dict) -> None:
    print(f"\n{name}")
    print(f"{'system':<24}{'original':>9}{'paraphr.':>9}{'all':>7}{'latency_s':>10}{'tokens':>8}{'Ovadia':>8}")
    for label in ORDER:
        s = systems[label]
        para = "-" if s["accuracy_paraphrase"] is None else f"{s['accuracy_paraphrase']:.3f}"
        print(f"{label:<24}{s['accuracy_original']:>9.3f}{para:>9}{s['accuracy']:>7.3f}{s['latency_s']:>10.3f}"
              f"{s['completion_tokens']:>8.1f}{OVADIA_2023[label]:>8.3f}")
    acc = {k: systems[k]["accuracy"] for k in ("base", "lora", "rag")}
    holds = acc["base"] < acc["lora"] < acc["rag"]
    print(f"ordering base < LoRA < RAG: {'yes' if holds else 'NO'} "
          f"({acc['base']:.3f} < {acc['lora']:.3f} < {acc['rag']:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paraphrases", type=int, default=1, help="paraphrases asked per question (default 1)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions of each corpus")
    parser.add_argument("--model", default=None, help="generator (default: the built-in tiny LM)")
    parser.add_argument("--corpora", nargs="+", default=None, metavar="NAME", help="only these world corpora")
    parser.add_argument("--retrain", action="store_true", help="train the adapters again even if saved")
    parser.add_argument("--max-steps", type=int, default=0, help="cap adapter training (0 = FinetuneConfig's epochs)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the per-system numbers here")
    args = parser.parse_args()

    import torch

    from core.llm.loading import load_generator

    torch.set_num_threads(args.threads)
    base, embedder = load_generator(args.model), load_embedder()
    cache = EmbeddingCache(Workspace(default_root()).path("embeddings"), embedder.cache_key)
    out = {}
    for corpus in [c for c in list_corpora() if c.builtin_model_reads and c.qa_path
                   and (not args.corpora or c.name in args.corpora)]:
        print(f"{corpus.name} ({corpus.title}), model {base.name}", flush=True)
        out[corpus.name] = eval_corpus(corpus, base, embedder, cache, args)
        print_table(corpus.name, out[corpus.name])
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
