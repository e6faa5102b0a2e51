"""Benchmark the server-wide limits (core/runtime/limits.py): what the worst input they allow costs.

    python bench/bench_limits.py [--models builtin /work/smollm2-135m-instruct] [--only html|training] [--json]

Reports, each measured in a fresh process so one model's memory does not count for the next:

- the peak RSS of ONE training step (the model's default preset: LoRA, optimiser, activations) on the
  longest Q&A example the token limit allows (the answer grown word by word up to the limit);
- what the CLI does with a 20,000-word answer (``finetune`` exit code, its one line, the process's peak RSS);
- the time to read 20,000 nested ``<div>`` s (260 KB of HTML), and the wall time of the CLI ``search`` on it
  next to the same command on a one-sentence page (what every CLI call pays: imports and the embedder).

A benchmark, not a timed test: timings depend on the machine's load, printed next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def load() -> str:
    return open("/proc/loadavg").read().split()[0]


def nested_html(depth: int = 20_000) -> bytes:
    return ("<html><body>" + "<div>x " * depth + "deep text" + "</div>" * depth + "</body></html>").encode()


def longest_example(tokenizer, limit: int):
    """The Q&A example with the longest answer (in words) the limit allows, and its token count."""
    from core.errors import DatasetError
    from core.finetune.data import qa_example

    low, high = 1, 4 * limit  # words: a word is at least a token
    while low < high:
        mid = (low + high + 1) // 2
        try:
            qa_example(tokenizer, "Tell me everything about the harbour?", " ".join(["harbour"] * mid))
            low = mid
        except DatasetError:
            high = mid - 1
    example = qa_example(tokenizer, "Tell me everything about the harbour?", " ".join(["harbour"] * low))
    return example, low


def one_step(model_name: str | None) -> dict:
    """In this process: load the model, build the longest allowed example, train one step, report its peak."""
    import torch

    from core.finetune import prepare_model
    from core.finetune.presets import presets_for
    from core.finetune.step import train_step
    from core.runtime.memory import PeakRSS, rss_mb
    from core.llm.loading import load_generator
    from core.runtime.limits import limits

    torch.set_num_threads(1)
    gen = load_generator(model_name, cache=False)
    config = presets_for(gen.model, gen.profile)[0].config
    example, words = longest_example(gen.tokenizer, limits().example_tokens)
    loaded = rss_mb()
    with PeakRSS() as memory:
        model = prepare_model(gen.model, config)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
        started = time.perf_counter()
        train_step(model, optimizer, [example], [0], config.learning_rate, gen.tokenizer.pad_token_id, 1)
        seconds = time.perf_counter() - started
    return {"model": gen.name, "example_tokens": len(example.input_ids), "answer_words": words,
            "rss_loaded_mb": round(loaded), "peak_rss_mb": round(memory.peak_mb),
            "step_added_mb": round(memory.peak_mb - loaded), "step_seconds": round(seconds, 2), "load": load()}


def child(args: list[str]) -> tuple[subprocess.CompletedProcess, float, float]:
    """A fresh process: (its result, wall seconds, its peak RSS in MB); its CPU seconds in ``LAST_CPU``."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    out = subprocess.CompletedProcess(args, os.waitstatus_to_exitcode(status), proc.stdout.read(), proc.stderr.read())
    LAST_CPU[0] = usage.ru_utime + usage.ru_stime
    return out, seconds, usage.ru_maxrss / 1024


LAST_CPU = [0.0]  # CPU seconds (user + system) of the last child: about its wall time on an idle machine


def long_answer_cli(folder: Path) -> dict:
    qa = folder / "long.jsonl"
    qa.write_text(json.dumps({"question": "Tell me everything?", "answer": " ".join(["word"] * 20_000)}) + "\n")
    out, seconds, peak = child([sys.executable, "-m", "core", "finetune", "--qa", str(qa), "--out", str(folder / "run")])
    return {"case": "finetune, one 20,000-word answer", "exit": out.returncode, "stderr": out.stderr.strip(),
            "peak_rss_mb": round(peak), "seconds": round(seconds, 1), "load": load()}


def html_cases(folder: Path) -> list[dict]:
    from core.rag.documents import load_bytes

    page = folder / "nested.html"
    page.write_bytes(nested_html())
    started = time.perf_counter()
    doc = load_bytes(page.name, page.read_bytes())
    parse = {"case": "read 20,000 nested <div>s (260 KB)", "seconds": round(time.perf_counter() - started, 2),
             "characters": len(doc.text), "load": load()}
    small = folder / "small.html"
    small.write_text("<p>The ferry leaves at noon.</p>")
    rows = [parse]
    for path, what in ((small, "one sentence (the process's fixed cost: imports, embedder)"), (page, "the nested page")):
        out, seconds, peak = child([sys.executable, "-m", "core", "search", "--docs", str(path), "--query",
                                    "deep text", "-k", "3", "--no-cache", "--json"])
        rows.append({"case": f"CLI search on {what}", "exit": out.returncode, "seconds": round(seconds, 1),
                     "cpu_seconds": round(LAST_CPU[0], 1), "peak_rss_mb": round(peak), "load": load()})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["builtin", "/work/smollm2-135m-instruct"])
    parser.add_argument("--only", choices=("html", "training"), help="run only these cases")
    parser.add_argument("--one-step", default=None, help=argparse.SUPPRESS)  # the child process's job
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.one_step is not None:
        print(json.dumps(one_step(None if args.one_step == "builtin" else args.one_step)))
        return 0
    report: dict = {"steps": [], "cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "html":
            report["cases"].append(long_answer_cli(Path(tmp)))
        for name in args.models if args.only != "html" else ():
            out, _, _ = child([sys.executable, str(Path(__file__).resolve()), "--one-step", name])
            if out.returncode != 0:
                report["steps"].append({"model": name, "error": out.stderr.strip().splitlines()[-1:]})
                continue
            report["steps"].append(json.loads(out.stdout.strip().splitlines()[-1]))
        if args.only != "training":
            report["cases"].extend(html_cases(Path(tmp)))
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    for row in report["steps"]:
        print(json.dumps(row, ensure_ascii=False))
    for row in report["cases"]:
        print(json.dumps(row, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
