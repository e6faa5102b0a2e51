"""The lessons measured on the world corpora with the built-in model.

Usage: python bench/lessons_world.py [--corpora world_arcade world_greenhouse] [--edits 10] [--json FILE]

1. Long context as a fifth system: accuracy (answer contains the value) over every question, the share of
   the corpus that fit in the 1,024-token window, prompt tokens and latency, beside base and RAG.
2. How sure: the median probability each system gives the right value (teacher-forced).
3. Editing a fact in the weights: a rank-one edit of ``--edits`` facts (each to another fact's value of
   the same attribute), with reliability, generality (paraphrases) and locality (token agreement on
   other entities' answers).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.answering import Answerer, Decoding  # noqa: E402
from core.llm.confidence import value_probabilities  # noqa: E402
from core.rag.corpora import get_corpus, load_qa  # noqa: E402
from core.rag.documents import load_paths  # noqa: E402
from core.llm.editing import edit_fact_in_weights, locality_questions  # noqa: E402
from core.rag.embedding import load_embedder  # noqa: E402
from core.evaluation import evaluate, specs_for  # noqa: E402
from core.llm.loading import load_generator  # noqa: E402
from core.rag.retrieval import Retriever  # noqa: E402


def new_value_for(item, qa):
    """Another entity's value for the same attribute: a plausible, different fact."""
    attr = item.extra.get("attribute")
    return next((o.value for o in qa if o.extra.get("attribute") == attr and o.value != item.value), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", nargs="+", default=["world_arcade", "world_greenhouse"])
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    base, embedder = load_generator(), load_embedder()
    out = {}
    for name in args.corpora:
        corpus = get_corpus(name)
        docs, qa = load_paths([corpus.docs_path]), load_qa(corpus.qa_path)
        answerer = Answerer(base, Retriever.build(docs, embedder), documents=docs)
        systems = ["base", "rag", "long-context"]
        result = evaluate(specs_for(answerer, systems), qa, decoding=Decoding())
        shares = [answerer.prepare(it.question, "long-context").corpus_share for it in qa[:5]]
        probs = value_probabilities(answerer, qa, systems)
        row = {s: {"accuracy": result.systems[s]["accuracy"], "prompt_tokens": result.systems[s]["prompt_tokens"],
                   "latency_s": result.systems[s]["latency_s"],
                   "median_value_prob": statistics.median(r["prob"] for r in probs if r["system"] == s)}
               for s in systems}
        row["long-context"]["corpus_share"] = round(statistics.mean(shares), 3)
        print(name, json.dumps(row), flush=True)
        edits = []
        for item in [it for it in qa if new_value_for(it, qa)][:: max(1, len(qa) // args.edits)][: args.edits]:
            t0 = time.perf_counter()
            r = edit_fact_in_weights(base, item, new_value_for(item, qa), others=locality_questions(qa, item, 8),
                                     texts=[d.text for d in docs])
            edits.append({"question": item.question, "new_value": r.new_value, "layer": r.layer,
                          "reliability": r.reliability, "generality": r.generality, "locality": r.locality,
                          "seconds": round(time.perf_counter() - t0, 1)})
            print("  edit", json.dumps(edits[-1]), flush=True)
        row["edit"] = {k: round(statistics.mean(e[k] for e in edits), 3) for k in ("reliability", "generality", "locality")}
        row["edit"]["n"] = len(edits)
        row["edit"]["rows"] = edits
        out[name] = row
        print(name, "edit", json.dumps({k: v for k, v in row["edit"].items() if k != "rows"}), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
