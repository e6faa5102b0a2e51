"""Reading with a real English model: RAG accuracy for each reading setting (prompt layout, copy, focus, k).

Run: python bench/eval_english_model.py --model /work/smollm2-135m-instruct [--sets english prose]
         [--variants default user-brief ...] [--out results.json]

Every answer goes through the Lab's own pipeline (hybrid retrieval over default chunks, ``core.answering``,
``core.llm.prompting``, greedy ``core.llm.generation.generate``) with the model's reading settings set to the
variant's (``core.llm.reading.with_reading``: the reading fields a model profile's ``lab.json`` holds), and is
scored by the Lab's "contains the fact" rule as ``python -m core eval`` does. ``base`` (no passages) is scored
once per set. Numbers go to docs/english-model.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETS = {"english": ROOT / "sample_data" / "heldout_english", "prose": ROOT / "sample_data" / "heldout_prose"}
BRIEF = "{question} Answer briefly."
TEXT = "You are a helpful assistant. Answer the question with the words of the text you are given."
ABOVE = "According to the text above: {question} Answer briefly."
# name → reading settings (a profile's "reading" entry); the first is the Lab's layout before this work
VARIANTS = {
    "system": {"k": 3},
    "system-k1": {"k": 1},
    "user-k1": {"k": 1, "prompt": {"context_in": "user"}},
    "user-brief-k1": {"k": 1, "prompt": {"context_in": "user", "question": BRIEF}},
    "user-above-k1": {"k": 1, "prompt": {"context_in": "user", "question": ABOVE}},
    "user-brief-k2": {"k": 2, "prompt": {"context_in": "user", "question": BRIEF}},
    "user-brief-k3": {"k": 3, "prompt": {"context_in": "user", "question": BRIEF}},
    "user-brief-own-instruction-k1": {"k": 1, "prompt": {"context_in": "user", "question": BRIEF, "instruction": TEXT}},
    "user-brief-question-first-k1": {"k": 1, "prompt": {"context_in": "user", "question": BRIEF, "question_first": True}},
    "user-brief-question-first-own-instruction-k1": {
        "k": 1, "prompt": {"context_in": "user", "question": BRIEF, "question_first": True, "instruction": TEXT}},
    "system-copy-sentence-focus2-k1": {"k": 1, "focus": 2, "copy": True},
    "user-brief-copy-span-k1": {"k": 1, "copy": True, "copy_unit": "span",
                                "prompt": {"context_in": "user", "question": BRIEF}},
    "user-brief-copy-sentence-k1": {"k": 1, "copy": True, "prompt": {"context_in": "user", "question": BRIEF}},
    "user-brief-focus1-k1": {"k": 1, "focus": 1, "prompt": {"context_in": "user", "question": BRIEF}},
    "user-brief-focus2-k1": {"k": 1, "focus": 2, "prompt": {"context_in": "user", "question": BRIEF}},
    "user-brief-focus2-k2": {"k": 2, "focus": 2, "prompt": {"context_in": "user", "question": BRIEF}},
    "system-focus2-k2": {"k": 2, "focus": 2},
    "system-brief-focus2-k2": {"k": 2, "focus": 2, "prompt": {"question": BRIEF}},
    "user-brief-focus3-k2": {"k": 2, "focus": 3, "prompt": {"context_in": "user", "question": BRIEF}},
    "user-brief-focus3-k3": {"k": 3, "focus": 3, "prompt": {"context_in": "user", "question": BRIEF}},
    "user-brief-copy-sentence-focus1-k1": {"k": 1, "focus": 1, "copy": True,
                                           "prompt": {"context_in": "user", "question": BRIEF}},
    "user-brief-focus3-k1": {"k": 1, "focus": 3, "prompt": {"context_in": "user", "question": BRIEF}},
    "user-brief-copy-span-focus3-k1": {"k": 1, "focus": 3, "copy": True, "copy_unit": "span",
                                       "prompt": {"context_in": "user", "question": BRIEF}},
}


def score(gen, embedder, folder: Path, reading: dict | None, systems=("rag",)) -> dict:
    """Accuracy of ``systems`` on one set with ``gen`` reading by ``reading`` (None: the Lab's rules)."""
    from core.answering import Answerer, Decoding
    from core.evaluation import evaluate, specs_for
    from core.llm.reading import with_reading
    from core.rag.chunking import ChunkConfig
    from core.rag.corpora import load_qa
    from core.rag.documents import load_paths
    from core.rag.retrieval import Retriever

    gen = with_reading(gen, reading) if reading is not None else gen
    qa = load_qa(folder / "qa.jsonl")
    t = time.perf_counter()
    retriever = Retriever.build(load_paths([folder / "docs"]), embedder, ChunkConfig())
    answerer = Answerer(gen, retriever)
    result = evaluate(specs_for(answerer, list(systems)), qa, decoding=Decoding())
    out = {"n": len(qa), "k": answerer.k, "focus": answerer.focus, "seconds": round(time.perf_counter() - t, 1)}
    for system in systems:
        rows = [r for r in result.rows if r["system"] == system]
        out[system] = round(result.systems[system]["accuracy"], 3)
        out[f"{system}_correct"] = sum(bool(r["correct"]) for r in rows)
        out[f"{system}_latency_s"] = round(result.systems[system]["latency_s"], 3)
        out[f"{system}_examples"] = [{"q": r["question"], "target": r["target"], "answer": r["answer"],
                                      "ok": bool(r["correct"])} for r in rows]
    return out


def main(argv: list[str] | None = None) -> None:
    import torch

    from core.llm.loading import load_generator
    from core.llm.quantize import int8_generator
    from core.rag.embedding import load_embedder

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a model folder or hub id")
    ap.add_argument("--sets", nargs="+", default=["english"], choices=list(SETS))
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--base", action="store_true", help="also score the base system (no passages) once per set")
    ap.add_argument("--int8", action="store_true", help="int8 dynamic quantization of the linear layers")
    ap.add_argument("--out", type=Path, help="write every number (and every answer) as JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    gen, embedder = load_generator(args.model, cache=False), load_embedder()
    if args.int8:
        gen = int8_generator(gen)
    out = {"model": args.model, "int8": args.int8, "loadavg": Path("/proc/loadavg").read_text().split()[:3],
           "variants": {}}
    for name in args.sets:
        if args.base:
            cell = score(gen, embedder, SETS[name], None, systems=("base",))
            out.setdefault("base", {})[name] = cell
            print(f"{name:<8} base {cell['base']:.3f} ({cell['base_correct']}/{cell['n']})", flush=True)
        for variant in args.variants:
            cell = score(gen, embedder, SETS[name], VARIANTS[variant])
            out["variants"].setdefault(variant, {})[name] = cell
            wrong = [f"{r['q'][:40]} -> {r['answer'][:60]!r}" for r in cell["rag_examples"] if not r["ok"]]
            print(f"{name:<8} {variant:<34} wrong: {wrong}", file=sys.stderr, flush=True)
            print(f"{name:<8} {variant:<34} RAG {cell['rag']:.3f} ({cell['rag_correct']}/{cell['n']}) "
                  f"{cell['rag_latency_s']:.2f} s/answer  load {open('/proc/loadavg').read().split()[0]}", flush=True)
    out["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
