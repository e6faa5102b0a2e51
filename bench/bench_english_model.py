"""Speed of a real English model through the Lab vs raw ``model.generate``, and int8 beside fp32.

    python bench/bench_english_model.py --model /work/smollm2-135m-instruct [--tokens 32] [--repeats 5] [--accuracy]

On the SAME prompt (a RAG prompt of the held-out English set, rendered by the Lab) and in the SAME process,
interleaved A/B so that the machine's load hits both alike:

- **lab**: ``core.llm.generation.generate`` (greedy, KV cache, the Lab's thread rule);
- **raw**: ``model.generate(input_ids, do_sample=False, max_new_tokens=N, min_new_tokens=N)`` at torch's default
  thread count, as a script would call it; also at 1 thread;
- **int8**: the Lab's ``generate`` on ``core.llm.quantize.int8_generator`` of the same model.

Every run writes exactly ``--tokens`` new tokens (end-of-text ignored). Prints tokens/s (median of the
repeats), the ratio Lab/raw, the weights' memory and, with ``--accuracy``, RAG accuracy on the held-out
English set for fp32 and int8 with ``--reading`` settings (JSON; default: the recommended ones).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RECOMMENDED = {"k": 2, "focus": 2, "prompt": {"context_in": "user", "question": "{question} Answer briefly."}}


def rag_prompt(gen, embedder, question: str, reading: dict) -> list[dict]:
    """The messages the Lab's RAG system gives ``gen`` for ``question`` over the held-out English documents."""
    from core.answering import Answerer
    from core.llm.reading import with_reading
    from core.rag.chunking import ChunkConfig
    from core.rag.documents import load_paths
    from core.rag.retrieval import Retriever

    retriever = Retriever.build(load_paths([ROOT / "sample_data" / "heldout_english" / "docs"]), embedder, ChunkConfig())
    gen = with_reading(gen, reading)
    return Answerer(gen, retriever).prepare(question, "rag").plan.messages


def lab_tps(gen, messages, n: int) -> float:
    from core.llm.generation import generate

    out = generate(gen, messages, max_new_tokens=n, ignore_eos=True)
    return out.completion_tokens / out.latency_s


def raw_tps(gen, messages, n: int, threads: int) -> float:
    import torch

    from core.llm.generation import encode

    ids = torch.tensor([encode(gen, messages)])
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            t = time.perf_counter()
            out = gen.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                     max_new_tokens=n, min_new_tokens=n, pad_token_id=gen.tokenizer.pad_token_id)
            seconds = time.perf_counter() - t
    finally:
        torch.set_num_threads(before)
    return (out.shape[1] - ids.shape[1]) / seconds


def main(argv: list[str] | None = None) -> int:
    import torch

    from core.llm.generation import encode
    from core.llm.loading import load_generator
    from core.llm.quantize import int8_generator, weight_bytes
    from core.runtime.memory import rss_mb
    from core.rag.embedding import load_embedder

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--reading", type=json.loads, default=RECOMMENDED)
    ap.add_argument("--accuracy", action="store_true", help="also score RAG on the held-out English set, fp32 and int8")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    default_threads = torch.get_num_threads()
    rss0 = rss_mb()
    gen = load_generator(args.model, cache=False)
    rss_fp32 = rss_mb()
    gen8 = int8_generator(gen)
    rss_int8 = rss_mb()
    embedder = load_embedder()
    messages = rag_prompt(gen, embedder, "Who looks after the star charts in the reading room?", args.reading)
    runs: dict[str, list[float]] = {"lab": [], "raw": [], "raw_1_thread": [], "lab_int8": []}
    lab_tps(gen, messages, 4), raw_tps(gen, messages, 4, default_threads), lab_tps(gen8, messages, 4)  # warm-up
    for _ in range(args.repeats):  # interleaved: the load hits every variant alike
        runs["lab"].append(lab_tps(gen, messages, args.tokens))
        runs["raw"].append(raw_tps(gen, messages, args.tokens, default_threads))
        runs["raw_1_thread"].append(raw_tps(gen, messages, args.tokens, 1))
        runs["lab_int8"].append(lab_tps(gen8, messages, args.tokens))
    med = {k: round(statistics.median(v), 1) for k, v in runs.items()}
    out = {"model": args.model, "prompt_tokens": len(encode(gen, messages)), "new_tokens": args.tokens,
           "torch_default_threads": default_threads, "tokens_per_s": med,
           "lab_over_raw": round(med["lab"] / med["raw"], 3),
           "lab_over_raw_1_thread": round(med["lab"] / med["raw_1_thread"], 3),
           "int8_over_fp32": round(med["lab_int8"] / med["lab"], 3),
           "weights_mb": {"fp32": round(weight_bytes(gen.model) / 1e6, 1),
                          "int8": round(weight_bytes(gen8.model) / 1e6, 1)},
           "rss_added_mb": {"fp32 load": round(rss_fp32 - rss0, 1), "int8 copy": round(rss_int8 - rss_fp32, 1)},
           "loadavg": Path("/proc/loadavg").read_text().split()[:3]}
    print(json.dumps(out, indent=2), flush=True)
    if args.accuracy:
        from bench.eval_english_model import SETS, score

        out["accuracy"] = {}
        for label, g in (("fp32", gen), ("int8", gen8)):
            cell = score(g, embedder, SETS["english"], args.reading)
            out["accuracy"][label] = {"rag": cell["rag"], "correct": cell["rag_correct"], "n": cell["n"],
                                      "latency_s": cell["rag_latency_s"]}
            print(f"{label}: RAG {cell['rag']:.3f} ({cell['rag_correct']}/{cell['n']})", flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
