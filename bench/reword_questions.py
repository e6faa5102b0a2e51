"""Can the built-in English model reword the rule-made questions? Measured, not assumed.

    PYTHONPATH=. python bench/reword_questions.py --set sample_data/heldout_english [--n 20]

For the first ``n`` train questions of the set's bank, SmolLM2-135M-Instruct is asked for a paraphrase with
two prompts (an instruction; an instruction with two worked examples). A paraphrase is kept only if it is a
question, differs from the original, does not give away the value, and keeps every name and number the
original asks about. Kept paraphrases are then asked with RAG (the Lab's defaults), beside their originals:
a paraphrase that "keeps its value" is answered with the same value. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import time

PROMPTS = {
    "instruction": [{"role": "system", "content": "You rewrite questions. Keep every name and number. "
                                                  "Reply with the new question only."}],
    "two examples": [{"role": "system", "content": "You paraphrase questions. Never answer them."},
                     {"role": "user", "content": "Paraphrase: When does the museum open on Sundays?"},
                     {"role": "assistant", "content": "At what time does the museum open on a Sunday?"},
                     {"role": "user", "content": "Paraphrase: Who designed the Old Mill bridge?"},
                     {"role": "assistant", "content": "Which person was the designer of the Old Mill bridge?"}],
}


def anchors(question: str) -> set[str]:
    """Names and numbers the question asks about: capitalised words after the first, and digits."""
    words = re.findall(r"[A-Za-z][\w'-]*|\d[\d,.:]*", question)
    return {w.lower() for i, w in enumerate(words) if w[0].isdigit() or (i > 0 and w[0].isupper())}


def why_dropped(original: str, text: str, value: str) -> str:
    plain = lambda s: re.sub(r"\W+", " ", s).strip().lower()  # noqa: E731
    if not text.strip().endswith("?"):
        return "not a question"
    if plain(text) == plain(original):
        return "same words"
    if plain(value) and plain(value) in plain(text):
        return "gives the value away"
    if not anchors(original) <= anchors(text):
        return "lost a name or number"
    return ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--set", required=True)
    ap.add_argument("--n", type=int, default=20)
    args = ap.parse_args()

    import torch

    from core.answering import Answerer
    from core.llm.generation import generate
    from core.llm.loading import load_generator
    from core.questions import make_bank
    from core.questions.quality import default_chunks
    from core.rag.documents import load_paths
    from core.rag.embedding import load_embedder
    from core.rag.retrieval import Retriever
    from core.scoring import is_correct

    torch.set_num_threads(1)
    docs = load_paths([f"{args.set}/docs"])
    items = [i for i in make_bank(docs, chunks=default_chunks(docs)).items if i.split == "train"][: args.n]
    gen = load_generator("smollm2-135m-instruct")
    answerer = Answerer(gen, Retriever.build(docs, load_embedder()))
    report = {"set": args.set, "questions": len(items), "prompts": {}}
    for name, frame in PROMPTS.items():
        t0, rows = time.perf_counter(), []
        for item in items:
            asked = [*frame, {"role": "user", "content": (f"Paraphrase: {item.question}" if len(frame) > 1
                                                          else f"Rewrite this question in other words: {item.question}")}]
            text = generate(gen, asked, max_new_tokens=40).text.strip()
            rows.append({"question": item.question, "paraphrase": text, "value": item.value,
                         "dropped": why_dropped(item.question, text, item.value)})
        seconds = time.perf_counter() - t0
        kept = [r for r in rows if not r["dropped"]]
        for r in kept:  # does the paraphrase keep its value? RAG answers both wordings
            r["rag_original"] = is_correct(answerer.answer(r["question"], "rag").text, r["value"])
            r["rag_paraphrase"] = is_correct(answerer.answer(r["paraphrase"], "rag").text, r["value"])
        report["prompts"][name] = {
            "seconds": round(seconds, 1), "kept": len(kept),
            "dropped": {why: sum(r["dropped"] == why for r in rows) for why in sorted({r["dropped"] for r in rows} - {""})},
            "rag_original": sum(r["rag_original"] for r in kept), "rag_paraphrase": sum(r["rag_paraphrase"] for r in kept),
            "rows": rows}
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
