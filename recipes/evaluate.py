"""Evaluate a generator on fresh world corpora (held-out entities, unseen seeds).

    python -m recipes.evaluate [--model PATH] [--seeds 9001 9002] [--json OUT]

Modes, each scored by the Lab's one rule, ``core.scoring.is_correct`` (the answer mentions the fact's value):
* ``rag``: the app's pipeline (default chunks, MiniLM + BM25 hybrid search, top-k, prompt, generate);
* ``oracle``: the relevant passage plus 1-2 distractor passages;
* ``closed``: no context (the model cannot know; it should fail).
Also measures greedy decoding speed (new tokens/s after a ~300-token prompt).
"""

from __future__ import annotations

import argparse
import json
import random
import re

from core.answering import Decoding
from core.llm.generation import generate
from core.llm.loading import Generator, load_generator
from core.scoring import is_correct
from core.llm.prompting import build_messages
from core.world import generate_world

def chunk_text(text: str, size: int = 400) -> list[str]:
    """Greedy chunks of whole sentences/lines, about ``size`` characters each (the oracle's passages)."""
    units = [u for u in re.split(r"(?<=[.?!])\s+|\n+", text) if u.strip()]
    chunks, cur = [], ""
    for u in units:
        if cur and len(cur) + len(u) + 1 > size:
            chunks.append(cur.strip())
            cur = ""
        cur += u + ("\n" if u.startswith("#") else " ")
    if cur.strip():
        chunks.append(cur.strip())
    return chunks


def world_answerer(gen: Generator, world, embedder, k: int | None = None):
    """The app's own pipeline over a world's documents: default chunking, MiniLM, hybrid search, top-k
    (``k=None``: the app's default for this model, ``core.answering.default_k``)."""
    from core.answering import Answerer
    from core.rag.documents import Document
    from core.rag.retrieval import Retriever

    docs = [Document(d.name, d.name, d.text) for d in world.documents]
    return Answerer(gen, Retriever.build(docs, embedder), k=k)


def evaluate_world(gen: Generator, seed: int, embedder, n_entities: int = 12, k: int | None = None, limit: int | None = None,
                   modes: tuple[str, ...] = ("rag", "oracle", "closed")) -> dict:
    world = generate_world(seed, n_entities=n_entities)
    chunks = [c for d in world.documents for c in chunk_text(d.text)]
    answerer = world_answerer(gen, world, embedder, k)
    docs = {d.name: d for d in world.documents}
    rng = random.Random(seed)
    rows = world.qa[:limit] if limit else world.qa
    hits = {m: 0 for m in modes}
    examples = []
    for row in rows:
        for mode in modes:
            if mode == "rag":
                out = answerer.answer(row["question"], "rag", Decoding(max_new_tokens=40))
            elif mode == "oracle":
                rel = next(c for c in chunk_text(docs[row["document"]].text) if row["value"] in c)
                others = [c for c in chunks if row["value"] not in c and row["entity"] not in c]
                ctx = [rel] + rng.sample(others, rng.randint(1, 2))
                rng.shuffle(ctx)
            else:
                ctx = None
            if mode != "rag":
                out = generate(gen, build_messages(row["question"], ctx), max_new_tokens=40)
            ok = is_correct(out.text, row["value"])
            hits[mode] += ok
            if len(examples) < 9:
                examples.append({"mode": mode, "question": row["question"], "value": row["value"],
                                 "output": out.text, "ok": ok})
    return {"seed": seed, "n": len(rows), **{f"{m}_accuracy": hits[m] / len(rows) for m in modes},
            "examples": examples}


def decoding_speed(gen: Generator, prompt_tokens: int = 300, new_tokens: int = 200) -> dict:
    world = generate_world(123456, n_entities=6)
    text = "\n\n".join(d.text for d in world.documents)
    ids = gen.tokenizer(text, add_special_tokens=False)["input_ids"][: prompt_tokens - 1]
    prompt = (gen.tokenizer.bos_token or "") + gen.tokenizer.decode(ids)
    best = None
    for _ in range(2):
        g = generate(gen, prompt, max_new_tokens=new_tokens, ignore_eos=True)
        rate = g.completion_tokens / g.latency_s
        best = max(best or 0, rate)
    return {"prompt_tokens": g.prompt_tokens, "new_tokens": g.completion_tokens, "tokens_per_s": round(best, 1)}


ENGLISH_PROBES = [
    ("The capital of France is Paris. The capital of Japan is Tokyo.", "What is the capital of Japan?", "Tokyo"),
    ("Water boils at 100 degrees Celsius at sea level.", "At what temperature does water boil?", "100"),
    ("Maria bought three apples and two pears at the market.", "How many apples did Maria buy?", "three"),
    ("The meeting was moved from Monday to Thursday afternoon.", "When is the meeting now?", "Thursday"),
    ("Our library closes at 6 pm on Saturdays.", "When does the library close on Saturdays?", "6 pm"),
]


def english_probe(gen: Generator) -> dict:
    rows = []
    for ctx, q, v in ENGLISH_PROBES:
        out = generate(gen, build_messages(q, [ctx]), max_new_tokens=30)
        rows.append({"question": q, "value": v, "output": out.text, "ok": is_correct(out.text, v)})
    return {"accuracy": sum(r["ok"] for r in rows) / len(rows), "rows": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m recipes.evaluate", description=__doc__)
    ap.add_argument("--model", default=None, help="model folder or hub id (default: built-in)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[9001, 9002])
    ap.add_argument("--entities", type=int, default=12)
    ap.add_argument("--k", type=int, default=None, help="chunks per RAG prompt (default: the app's default for the model)")
    ap.add_argument("--limit", type=int, default=None, help="questions per world")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    gen = load_generator(args.model, cache=False)
    from core.rag.embedding import load_embedder

    embedder = load_embedder()
    worlds = [evaluate_world(gen, s, embedder, args.entities, args.k, args.limit) for s in args.seeds]
    from core.answering import default_k

    res = {"model": gen.name, "n_params": gen.n_params, "k": args.k or default_k(gen), "worlds": worlds}
    for m in ("rag", "oracle", "closed"):
        res[f"{m}_accuracy"] = round(sum(w[f"{m}_accuracy"] * w["n"] for w in worlds) / sum(w["n"] for w in worlds), 4)
    res["speed"] = decoding_speed(gen)
    res["english"] = english_probe(gen)
    print(json.dumps({k: v for k, v in res.items() if k != "worlds"} | {
        "per_world": [{k: v for k, v in w.items() if k != "examples"} for w in worlds]}, indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
