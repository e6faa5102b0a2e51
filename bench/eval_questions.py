"""Bars for the question bank: size, offsets, repeats, RAG over the bank, and LoRA trained on the bank alone.

    PYTHONPATH=. python bench/eval_questions.py --set sample_data/heldout_english [--model /work/smollm2-135m-instruct]
        [--steps 30] [--skip-lora] [--out bench/results/questions]

1. Make the bank of ``SET/docs`` (``python -m core questions``): items, facts, repeat rate, offsets.
2. RAG with the Lab's defaults answers the bank's questions (all rows, train and held-out wordings).
3. LoRA trained on the bank's train rows alone (``python -m core finetune``), then asked the 20 hand-written
   questions of ``SET/qa.jsonl`` closed book (worded differently from the bank); the base model too.
Prints one JSON object; heavy (minutes on 2 cores): run one at a time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

PY = sys.executable


def cli(*args: str) -> str:
    done = subprocess.run([PY, "-m", "core", *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"python -m core {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def accuracy(docs: str, qa: str, model: str, systems: list[str], adapter: str | None = None) -> dict:
    """Accuracy per system over ``qa`` (the eval CLI's scorer), through core directly: only these systems."""
    import torch

    from core.cli import build_parser
    from core.cli.eval import answerer_from, decoding_from
    from core.evaluation import evaluate, specs_for
    from core.rag.corpora import load_qa

    torch.set_num_threads(1)
    argv = ["eval", "--docs", docs, "--qa", qa, "--model", model] + (["--adapter", adapter] if adapter else [])
    args = build_parser().parse_args(argv)
    items = load_qa(qa)
    answerer = answerer_from(args, items)
    result = evaluate(specs_for(answerer, systems), items, decoding=decoding_from(args))
    misses = [{k: r.get(k) for k in ("system", "question", "target", "answer")} for r in result.rows if not r["correct"]]
    return {s: round(v["accuracy"], 3) for s, v in result.systems.items()} | {"n": len(items), "misses": misses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="sample_data/heldout_english")
    parser.add_argument("--model", default="/work/smollm2-135m-instruct")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--lr", type=float, default=4e-3)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--paraphrases", type=int, default=1, help="paraphrases per fact in training (bank rows have 3)")
    parser.add_argument("--skip-lora", action="store_true")
    parser.add_argument("--skip-rag", action="store_true")
    parser.add_argument("--out", default="bench/results/questions")
    args = parser.parse_args()
    out = Path(args.out) / Path(args.set).name
    out.mkdir(parents=True, exist_ok=True)
    docs, bank = f"{args.set}/docs", str(out / "bank.jsonl")
    report: dict = {"set": args.set, "model": args.model, "load": Path("/proc/loadavg").read_text().split()[:3]}
    t = time.time()
    report["bank"] = {k: v for k, v in json.loads(cli("questions", "--docs", docs, "--out", bank, "--json")).items()
                      if k != "rejected"} | {"seconds": round(time.time() - t, 1)}
    from core.questions.quality import offsets_hold, read_bank
    from core.rag.documents import load_paths

    texts = {d.name: d.text for d in load_paths([docs])}
    report["bank"]["offsets_hold"] = offsets_hold(read_bank(Path(bank)), texts)
    print(json.dumps(report), flush=True)
    if not args.skip_rag:
        t = time.time()
        report["rag_on_bank"] = accuracy(docs, bank, args.model, ["rag"]) | {"seconds": round(time.time() - t, 1)}
        print(json.dumps(report), flush=True)
    if not args.skip_lora:
        adapter = str(out / "adapter")
        t = time.time()
        summary = json.loads(cli("finetune", "--qa", bank, "--docs", docs, "--model", args.model, "--out", adapter,
                                 "--rank", str(args.rank), "--lr", str(args.lr), "--steps", str(args.steps),
                                 "--batch-size", "256", "--micro-batch-size", "8", "--paraphrases", str(args.paraphrases),
                                 "--targets", "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                 "down_proj", "--open-book-mix", "0", "--val-fraction", "0", "--stop-at-recall", "0", "--max-facts", "0",
                                 "--eval-every", str(args.steps), "--json"))
        report["lora_training"] = {k: summary.get(k) for k in ("steps", "seconds", "facts_recalled", "final_train_loss")} | {
            "rank": args.rank, "lr": args.lr, "paraphrases": args.paraphrases}
        report["closed_book_on_handwritten"] = accuracy(docs, f"{args.set}/qa.jsonl", args.model, ["base", "lora"],
                                                        adapter) | {"seconds": round(time.time() - t, 1)}
    report["load_after"] = Path("/proc/loadavg").read_text().split()[:3]
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
