"""Reading with the Lab's defaults on every prose set: RAG over each set's Q&A and its question bank.

    PYTHONPATH=. python bench/eval_reading.py [--sets heldout_english …] [--banks DIR] [--reading JSON]
        [--recall-only] [--out FILE]

For each set in ``sample_data`` with a ``qa.jsonl`` (the hand-written questions) and, with ``--banks DIR``,
``DIR/<set>.jsonl`` (its question bank, ``python -m core questions``), every question goes through the Lab's own
pipeline with the built-in English model's profile (``with_reading`` applies ``--reading`` over it): hybrid
retrieval over default chunks, sentence focus, the prompt layout, greedy decoding, the Lab's scoring rule.

``--recall-only`` skips the model: it reports how often the value survives into the prompt (retrieved chunks,
then the focused passage) and the prompt's size, in seconds instead of minutes. That is the first gate for a
focus change; the model's accuracy is the second. Heavy without it: run one at a time, 1 thread.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROSE = ["heldout_english", "heldout_questions", "heldout_prose", "prose_company_handbook", "prose_flower_shop",
         "prose_game_lore"]


def docs_of(name: str) -> Path:
    folder = ROOT / "sample_data" / name
    return folder / "docs" if (folder / "docs").is_dir() else folder


def question_sets(names, banks: Path | None):
    """(set, "qa" | "bank", its Q&A items) for every set and bank that exists."""
    from core.rag.corpora import load_qa

    for name in names:
        yield name, "qa", load_qa(ROOT / "sample_data" / name / "qa.jsonl")
        if banks and (banks / f"{name}.jsonl").is_file():
            yield name, "bank", load_qa(banks / f"{name}.jsonl")


def recall(answerer, items) -> dict:
    """Share of questions whose value is in the retrieved chunks, and in the passages the prompt gets."""
    from core.scoring import is_correct

    n = len(items)
    in_chunks = in_prompt = tokens = 0
    lost = []
    for item in items:
        given = answerer.prepare(item.question, "rag")
        chunks = [s.text for s in given.retrieved or []]
        hit_c, hit_p = any(is_correct(c, item) for c in chunks), any(is_correct(p, item) for p in given.plan.passages)
        in_chunks += hit_c
        in_prompt += hit_p
        tokens += sum(len(p) for p in given.plan.passages)
        if hit_c and not hit_p:
            lost.append(f"{item.question[:60]} [{item.target}]")
    return {"n": n, "value_in_chunks": round(in_chunks / n, 3), "value_in_prompt": round(in_prompt / n, 3),
            "prompt_chars": round(tokens / n), "lost_by_focus": lost}


def accuracy(answerer, items) -> dict:
    from core.answering import Decoding
    from core.evaluation import evaluate, specs_for

    result = evaluate(specs_for(answerer, ["rag"]), items, decoding=Decoding())
    rows = [r for r in result.rows if r["system"] == "rag"]
    s = result.systems["rag"]
    return {"n": len(rows), "rag": round(s["accuracy"], 3), "correct": sum(bool(r["correct"]) for r in rows),
            "failures": s.get("failures", {}), "latency_s": round(s["latency_s"], 2),
            "misses": [f"{r['question'][:60]} [{r['target']}] -> {r['answer'][:70]!r} ({r.get('failure')})"
                       for r in rows if not r["correct"]]}


def main(argv: list[str] | None = None) -> None:
    import torch

    from core.answering import Answerer
    from core.llm.generation import load_generator
    from core.llm.reading import with_reading
    from core.rag.chunking import ChunkConfig
    from core.rag.documents import load_paths
    from core.rag.embedding import load_embedder
    from core.rag.retrieval import Retriever

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--sets", nargs="+", default=PROSE)
    ap.add_argument("--banks", type=Path, help="folder of <set>.jsonl question banks")
    ap.add_argument("--reading", default="{}", help="reading settings (JSON) over the profile's")
    ap.add_argument("--recall-only", action="store_true", help="no model: does the value reach the prompt?")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    gen, embedder = load_generator(args.model, cache=False), load_embedder()
    reading = json.loads(args.reading)
    gen = with_reading(gen, reading) if reading else gen
    out = {"model": args.model, "reading": reading, "profile": {k: getattr(gen.profile, k) for k in ("k", "focus")},
           "load": Path("/proc/loadavg").read_text().split()[:3], "cells": {}}
    retrievers = {}
    for name, kind, items in question_sets(args.sets, args.banks):
        t = time.perf_counter()
        if name not in retrievers:
            retrievers[name] = Retriever.build(load_paths([docs_of(name)]), embedder, ChunkConfig())
        answerer = Answerer(gen, retrievers[name])
        cell = recall(answerer, items) if args.recall_only else accuracy(answerer, items)
        cell["seconds"] = round(time.perf_counter() - t, 1)
        cell["load"] = Path("/proc/loadavg").read_text().split()[0]
        out["cells"][f"{name}/{kind}"] = cell
        head = (f"in chunks {cell['value_in_chunks']:.3f} in prompt {cell['value_in_prompt']:.3f} "
                f"{cell['prompt_chars']} chars" if args.recall_only else
                f"RAG {cell['rag']:.3f} ({cell['correct']}/{cell['n']}) {cell['failures']}")
        print(f"{name + '/' + kind:<32} {head}  {cell['seconds']} s load {cell['load']}", flush=True)
    out["load_end"] = Path("/proc/loadavg").read_text().split()[:3]
    if args.out:
        args.out.write_text(json.dumps(out, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
