"""Reading score of an English reader model: held-out plain prose and the prose_* corpora.

Run: python bench/eval_reader.py --model models/lab-english-reader [--out eval.json] [--k 1 2] [--ablate]

Everything goes through the Lab's own pipeline (hybrid retrieval over default chunks, the reader's defaults of
sentence focus and copy decoding, ``core.llm.prompting``, greedy ``core.llm.generation.generate``) and is scored
by the Lab's "contains the fact" rule, as ``python -m core eval`` does. The held-out set
(``sample_data/heldout_prose``) is never trained on. ``--ablate`` also scores the held-out set with focus
(0-3 sentences) and copy decoding switched on and off, to show what each step adds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = {"heldout": ROOT / "sample_data" / "heldout_prose"}
SETS.update({name: ROOT / "sample_data" / name for name in ("prose_flower_shop", "prose_company_handbook",
                                                            "prose_game_lore")})


ABLATIONS = [(0, False), (0, True), (2, False), (1, True), (3, True)]  # (focus, copy) besides the defaults


def score(generator, embedder, folder: Path, k: int, focus: int | None = None, copy: bool | None = None) -> dict:
    """RAG accuracy on one set, with the share of questions whose passage reached the prompt, per kind."""
    from core.answering import Answerer, Decoding, reads_by_copying
    from core.evaluation import evaluate, specs_for
    from core.rag.chunking import ChunkConfig
    from core.rag.corpora import load_qa
    from core.rag.documents import load_paths
    from core.rag.retrieval import Retriever

    from core.rag.corpora import list_corpora

    corpus = next((c for c in list_corpora() if Path(c.docs_path).resolve().is_relative_to(folder)), None)
    docs, qa_path = (corpus.docs_path, corpus.qa_path) if corpus else (folder / "docs", folder / "qa.jsonl")
    qa = load_qa(qa_path)
    kinds = [json.loads(line).get("kind", "all") for line in Path(qa_path).read_text().splitlines() if line.strip()]
    t = time.perf_counter()
    retriever = Retriever.build(load_paths([docs]), embedder, ChunkConfig())
    answerer = Answerer(generator, retriever, k=k, focus=focus)
    result = evaluate(specs_for(answerer, ["rag"]), qa, decoding=Decoding(copy=copy))
    rows = [r for r in result.rows if r["system"] == "rag"]
    by_kind: dict[str, dict] = {}
    for kind, row in zip(kinds, rows):
        cell = by_kind.setdefault(kind, {"correct": 0, "n": 0})
        cell["correct"] += int(bool(row["correct"]))
        cell["n"] += 1
    return {"rag": round(result.systems["rag"]["accuracy"], 3), "n": len(rows), "focus": answerer.focus,
            "copy": reads_by_copying(generator) if copy is None else copy,
            "target_in_sources": round(sum(bool(r["target_in_sources"]) for r in rows) / len(rows), 3),
            "by_kind": dict(sorted(by_kind.items())), "seconds": round(time.perf_counter() - t),
            "examples": [{"question": r["question"], "target": r["target"], "answer": r["answer"],
                          "correct": bool(r["correct"])} for r in rows[:6]]}


def main(argv: list[str] | None = None) -> None:
    from core.llm.loading import load_generator
    from core.rag.embedding import load_embedder

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="lab-english-reader", help="a built-in name or a model folder")
    ap.add_argument("--k", type=int, nargs="+", default=[1])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    ap.add_argument("--out", type=Path, help="write the numbers as JSON here")
    ap.add_argument("--ablate", action="store_true", help="also score the held-out set with focus and copy varied")
    args = ap.parse_args(argv)
    generator, embedder = load_generator(args.model, cache=False), load_embedder()
    out = {"model": str(args.model), "scoring": "core.evaluation.contains (python -m core eval)"}
    for name in args.sets:
        for k in args.k:
            key = name if k == args.k[0] else f"{name}_k{k}"
            out[key] = score(generator, embedder, SETS[name], k)
            print(f"{key:<28} RAG {out[key]['rag']:.3f} ({out[key]['n']} questions; passage in the prompt "
                  f"{out[key]['target_in_sources']:.2f}) {out[key]['by_kind']}", flush=True)
    if args.ablate:
        out["ablation"] = {}
        for focus, copy in ABLATIONS:
            key = f"focus {focus}, copy {'on' if copy else 'off'}"
            cell = score(generator, embedder, SETS["heldout"], args.k[0], focus, copy)
            out["ablation"][key] = {"rag": cell["rag"], "n": cell["n"], "by_kind": cell["by_kind"]}
            print(f"heldout, {key:<22} RAG {cell['rag']:.3f}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
