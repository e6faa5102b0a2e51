"""Build the Lab's English reader (``models/lab-english-reader``) on 2 CPU cores.

    python -m recipes.reader_train --out models/lab-english-reader [--minutes 30] [--seed 0]

Recipe (see the model card for what was tried and what each step gained):

1. **Warm start from the built-in tiny LM** (``models/lab-tiny-lm``): its copying ("induction")
   heads and its reading habit (find the passage sentence that shares the question's words,
   copy from it) already exist; what it lacks is English. Same architecture, same byte-level
   tokenizer (cased: answers keep the document's spelling), same chat template.
2. **Reading comprehension by rules** (``recipes.reader_data``): real English sentences from
   the Debian machine's documentation, turned into wh-questions; the target is the evidence
   sentence, copied. Short single passages first (copying English), then 1-3 passages of
   retriever-chunk length, 10% closed book, in the Lab's own prompt format.
3. Full fine-tuning with AdamW; the loss is the answer tokens' cross-entropy plus a quarter
   weight on the passage tokens (English word pieces as a language model); the learning rate
   warms up and then decays linearly with *wall time*, so the run ends when its budget does.

A first attempt warm-started the bundled MiniLM encoder as a causal BERT decoder: at ~7 s per
8 examples on a shared 2-core machine it had seen 640 examples after 10 minutes and still
produced no copy ("the the the ..."), so it was dropped (see the model card).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from pathlib import Path

import torch

from recipes import reader_data

TINY_PATH = Path(__file__).resolve().parents[1] / "models" / "lab-tiny-lm"
MAX_LEN = 1024
CONTEXT_WEIGHT = 0.25  # the passage tokens' share of the loss: English as a language model, beside reading
DECISION_WEIGHT = 3.0  # --decision-tokens: the first answer tokens, where the reader picks the sentence to copy


def base_model_and_tokenizer(init: Path = TINY_PATH):
    """The tiny LM (weights, tokenizer, chat template), loaded with the Auto classes: the warm start."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(init, dtype=torch.float32), AutoTokenizer.from_pretrained(init)


def encode(tok, ex: reader_data.Example) -> tuple[list[int], list[int]] | None:
    """(prompt ids, answer ids + EOS) exactly as the Lab renders them; None when too long."""
    from core.llm.prompting import render

    prompt = tok(render(tok, ex.messages), add_special_tokens=False)["input_ids"]
    answer = tok(ex.answer, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    return (prompt, answer) if len(prompt) + len(answer) <= MAX_LEN else None


def batch_loss(model, batch: list[tuple[list[int], list[int]]], pad_id: int, decision_tokens: int = 0) -> torch.Tensor:
    """Answer tokens' mean cross-entropy plus ``CONTEXT_WEIGHT`` × the prompt tokens' (right-padded batch).

    ``decision_tokens`` > 0 adds ``DECISION_WEIGHT`` × the mean over each answer's first tokens: where a reader
    decides which sentence to copy (the rest of a copy is easy, and would otherwise dominate the loss).
    """
    width = max(len(p) + len(a) for p, a in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    weight = torch.zeros(len(batch), width)
    for i, (p, a) in enumerate(batch):
        ids[i, :len(p) + len(a)] = torch.tensor(p + a)
        weight[i, 1:len(p)] = CONTEXT_WEIGHT  # position t's loss is for predicting token t (shifted below)
        weight[i, len(p):len(p) + len(a)] = 1.0
    mask = (torch.arange(width) < torch.tensor([len(p) + len(a) for p, a in batch])[:, None]).long()
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1),
                                            reduction="none").view(len(batch), -1)
    w = weight[:, 1:]
    answer = (w == 1.0).float()
    loss = (nll * answer).sum() / answer.sum() + CONTEXT_WEIGHT * (nll * (w == CONTEXT_WEIGHT)).sum() / max(
        1.0, float((w == CONTEXT_WEIGHT).sum()))
    if decision_tokens:
        first = torch.zeros_like(answer)
        for i, (p, a) in enumerate(batch):
            first[i, len(p) - 1:len(p) - 1 + min(decision_tokens, len(a))] = 1.0
        loss = loss + DECISION_WEIGHT * (nll * first).sum() / first.sum()
    return loss


def save(model, tok, out: Path, metrics: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    shutil.copy(TINY_PATH / "chat_template.jinja", out / "chat_template.jinja")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


def train(out: Path, minutes: float, seed: int, batch_size: int, lr: float, threads: int,
          checkpoint_minutes: float, n_examples: int, short_share: float = 0.3, init: Path = TINY_PATH,
          short_answers: bool = False, focus_share: float = 0.0, decision_tokens: int = 0) -> dict:
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    model, tok = base_model_and_tokenizer(init)
    docs = reader_data.documents(reader_data.source_files(_site_packages()))
    data = [e for e in (encode(tok, x) for x in reader_data.examples(docs, n_examples, seed,
                                                                               short_answers=short_answers,
                                                                               focus_share=focus_share)) if e]
    short = [e for e in (encode(tok, x) for x in reader_data.examples(docs, n_examples // 2, seed + 1, short=True,
                                                                      short_answers=short_answers))
             if e]
    print(f"{len(docs)} documents, {len(data)} examples, {len(short)} short ones", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    budget, t0, last_ck = minutes * 60, time.time(), time.time()
    rng, step, seen, tokens, log = random.Random(seed), 0, 0, 0, (out / "train_log.jsonl")
    out.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    model.train()
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        for group in opt.param_groups:
            group["lr"] = lr * min(1.0, (step + 1) / 20) * max(0.05, 1 - frac)
        source = short if frac < short_share else data  # curriculum: short single passages first
        pool = rng.sample(source, min(len(source), batch_size * 4))  # similar lengths together: less padding
        pool.sort(key=lambda e: len(e[0]) + len(e[1]))
        start = rng.randrange(0, len(pool) - batch_size + 1)
        batch = pool[start:start + batch_size]
        tokens += sum(len(p) + len(a) for p, a in batch)
        loss = batch_loss(model, batch, tok.pad_token_id, decision_tokens)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step, seen = step + 1, seen + batch_size
        if step % 5 == 0:
            row = {"step": step, "seen": seen, "loss": round(loss.item(), 4), "s": round(time.time() - t0, 1),
                   "mix": "short" if frac < short_share else "full", "tokens": tokens}
            with log.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(row, flush=True)
        if time.time() - last_ck > checkpoint_minutes * 60:
            model.eval()
            save(model, tok, out, {"step": step, "examples_seen": seen, "partial": True})
            model.train()
            last_ck = time.time()
    model.eval()
    metrics = {"steps": step, "examples_seen": seen, "train_seconds": round(time.time() - t0), "threads": threads,
               "batch_size": batch_size, "learning_rate": lr, "seed": seed, "documents": len(docs), "tokens": tokens,
               "short_share": short_share, "short_answers": short_answers, "focus_share": focus_share, "decision_tokens": decision_tokens,
               "examples_built": len(data), "init": str(init),
               "source": "python3.11-doc sources, common-licenses, package READMEs"}
    save(model, tok, out, metrics)
    return metrics


def _site_packages() -> str | None:
    import site

    paths = [p for p in site.getsitepackages() if "site-packages" in p]
    return paths[0] if paths else None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("models/lab-english-reader"))
    ap.add_argument("--minutes", type=float, default=30.0, help="wall-time budget of the training loop")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint-minutes", type=float, default=8.0)
    ap.add_argument("--examples", type=int, default=20000)
    ap.add_argument("--short-share", type=float, default=0.3, help="share of the budget on short single passages")
    ap.add_argument("--init", type=Path, default=TINY_PATH, help="weights to start from (default: the tiny LM; "
                    "give a previous run's folder to continue it)")
    ap.add_argument("--short-answers", action="store_true", help="targets are the span with the words leading "
                    "to it, not the whole sentence; 40%% of the questions are terse keyword questions")
    ap.add_argument("--focus-share", type=float, default=0.0, help="share of the examples in the sentence-focus "
                    "form: 2-3 sentences of one document, the evidence sentence as the target")
    ap.add_argument("--decision-tokens", type=int, default=0, help="extra loss weight on each answer's first N tokens "
                    "(where the reader chooses the sentence to copy)")
    args = ap.parse_args(argv)
    print(json.dumps(train(args.out, args.minutes, args.seed, args.batch_size, args.lr, args.threads,
                           args.checkpoint_minutes, args.examples, args.short_share, args.init,
                           args.short_answers, args.focus_share, args.decision_tokens)))


if __name__ == "__main__":
    main()
