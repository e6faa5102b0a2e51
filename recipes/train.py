"""Train the built-in tiny model from scratch (seeded, resumable, budgeted in tokens).

    python -m recipes.train --out models/lab-tiny-lm [--tokens N] [--max-minutes M] [--seed S] [--resume] [--smoke]

One run from scratch (``--stage single``, the default) moves through three data mixes
(recipes.data.MIXES): a language-first mix, a drill burst that lasts until copying heads
have formed (the drills' answer loss falls below ``COPY_FORMED_LOSS``), then a
reading-comprehension mix at a lower learning rate. ``--stage pretrain`` / ``reading`` are
the older two-stage recipe (the second resumed from the first).

Writes a standard Hugging Face folder (config, model.safetensors, tokenizer with
chat template, generation_config) plus ``train_log.jsonl`` and ``metrics.json``;
exports it every ``--export-every-min`` minutes so a usable model exists early.
Checkpoints (model + optimizer + data position) go to ``--ckpt`` (default
``runs/<name>-ckpt``) for ``--resume``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import time
from pathlib import Path

import torch

from recipes import data as D
from recipes.tokenizer import save_tokenizer, train_tokenizer

MODEL_SHAPE = dict(hidden_size=192, intermediate_size=512, num_hidden_layers=4,
                   num_attention_heads=4, num_key_value_heads=4)
MAX_LEN = 1024
ANSWER_WEIGHT = 3.0
# one-run recipe: the burst starts at BURST_FROM of the budget and ends when copying has formed
# (drill answer loss, averaged, below COPY_FORMED_LOSS) or at BURST_UNTIL at the latest
BURST_FROM, BURST_UNTIL, COPY_FORMED_LOSS = 0.15, 0.7, 1.0
READING_LR_SCALE = 0.6


def single_run_mix(progress: float, copying: bool) -> str:
    """Which mix (recipes.data.MIXES) the one-run recipe trains on now."""
    if copying or progress >= BURST_UNTIL:
        return "reading"
    return "burst" if progress >= BURST_FROM else "early"


def build_model(tokenizer, seed: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tokenizer), max_position_embeddings=MAX_LEN, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, rms_norm_eps=1e-5, **MODEL_SHAPE,
    )
    return LlamaForCausalLM(cfg)


def make_batches(tokenizer, examples, batch_tokens: int, rng: random.Random):
    """Tokenise, sort by length, group into batches of about ``batch_tokens`` (padded) tokens."""
    flat = [seg for ex in examples for seg in ex]
    enc = tokenizer([t for t, _ in flat], add_special_tokens=False)["input_ids"]
    seqs, i = [], 0
    for ex in examples:
        ids, w = [], []
        for toks, (_, is_answer) in zip(enc[i:i + len(ex)], ex):
            ids += toks
            w += [ANSWER_WEIGHT if is_answer else 1.0] * len(toks)
        i += len(ex)
        seqs.append((ids[:MAX_LEN], w[:MAX_LEN], D.is_drill(ex)))
    # lengths padded to a multiple of 64 and a fixed batch size per length: few distinct
    # shapes, so the CPU kernels are reused (and bf16 primitives are not rebuilt every step)
    buckets: dict[int, list] = {}
    for s in seqs:
        buckets.setdefault(-(-len(s[0]) // 64) * 64, []).append(s)
    batches = []
    for L, group in sorted(buckets.items()):
        per = max(1, batch_tokens // L)
        batches += [(L, group[i:i + per]) for i in range(0, len(group), per)]
    rng.shuffle(batches)
    out = []
    pad = tokenizer.pad_token_id
    for L, b in batches:
        ids = torch.full((len(b), L), pad, dtype=torch.long)
        wts = torch.zeros((len(b), L))
        for i, (x, w, _) in enumerate(b):
            ids[i, : len(x)] = torch.tensor(x)
            wts[i, : len(w)] = torch.tensor(w)
        out.append((ids, wts, torch.tensor([d for _, _, d in b])))
    return out


def weighted_loss(model, ids, wts):
    logits = model(input_ids=ids).logits[:, :-1].float()
    target, w = ids[:, 1:], wts[:, 1:]
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), target.reshape(-1), reduction="none")
    nll = nll.view_as(w)
    return (nll * w).sum() / w.sum(), nll, w


def lr_at(frac: float, step: int, peak: float, warmup: int, decay_from: float) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    if frac < decay_from:
        return peak
    t = min(1.0, (frac - decay_from) / (1 - decay_from))
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def export(model, tokenizer, out: Path, log_path: Path, metrics: dict) -> None:
    from transformers import GenerationConfig

    out.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp-export")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(str(tmp), safe_serialization=True)
    save_tokenizer(tokenizer, tmp)
    GenerationConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, do_sample=False, max_new_tokens=48,
    ).save_pretrained(str(tmp))
    for f in tmp.iterdir():
        shutil.copy2(f, out / f.name)
    shutil.rmtree(tmp)
    if log_path.resolve() != (out / "train_log.jsonl").resolve():
        shutil.copy2(log_path, out / "train_log.jsonl")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m recipes.train", description=__doc__)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--tokens", type=int, default=14_000_000, help="training budget in (non-pad) tokens")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--stage", choices=["single", "pretrain", "reading"], default="single",
                    help="single (default): the one-run recipe from scratch; pretrain / reading: the older two-stage "
                         "recipe (reading resumes pretrain's checkpoint and warms its learning rate up again)")
    ap.add_argument("--smoke", action="store_true", help="~1 minute run that checks the loss falls")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--batch-tokens", type=int, default=8192)
    ap.add_argument("--buffer", type=int, default=1024, help="examples per data buffer")
    ap.add_argument("--max-minutes", type=float, default=0.0,
                    help="wall-clock cap: when > 0, schedule progress is max(token share, time share)")
    ap.add_argument("--ckpt", type=Path, default=None)
    ap.add_argument("--export-every-min", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=2,
                    help="most CPU threads; every 60 steps the run times 1 vs this many and keeps the faster "
                         "(other processes on the machine make extra threads slower, not faster)")
    ap.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True, help="bf16 autocast on CPU")
    args = ap.parse_args(argv)
    if args.smoke:
        args.tokens = min(args.tokens, 250_000)
    torch.set_num_threads(args.threads)
    out: Path = args.out
    ckpt_dir = args.ckpt or Path("runs") / f"{out.name}-ckpt"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    log_path = ckpt_dir / "train_log.jsonl"

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    state = None
    if args.resume and (ckpt_dir / "state.pt").exists():
        state = torch.load(ckpt_dir / "state.pt", weights_only=False)
    from transformers import AutoTokenizer

    if state is not None or (args.resume and (ckpt_dir / "tokenizer.json").exists()):
        tokenizer = AutoTokenizer.from_pretrained(str(ckpt_dir))
    else:
        t0 = time.time()
        tokenizer = train_tokenizer(D.tokenizer_corpus(args.seed, 3000 if args.smoke else 12000))
        save_tokenizer(tokenizer, ckpt_dir)
        print(f"tokenizer trained in {time.time() - t0:.0f}s, {len(tokenizer)} tokens", flush=True)
    model = build_model(tokenizer, args.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.05)
    step, tokens, k, elapsed0, resume_step = 0, 0, 0, 0.0, 0
    drill_ema, copying = None, False  # one-run recipe: has copying formed yet?
    logged_mix = None  # a row is also logged whenever the mix changes, so the switches are in the curve
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, tokens, k, elapsed0 = state["step"], state["tokens"], state["buffer"], state["elapsed"]
        drill_ema, copying = state.get("drill_ema"), state.get("copying", False)
        if state.get("stage", "pretrain") != args.stage:
            k, resume_step = 0, step  # a new stage: its own data stream, and a fresh warm-up
        if log_path.exists():  # rows logged after the checkpoint belong to a discarded trajectory
            kept = [line for line in log_path.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step]
            log_path.write_text("".join(line + "\n" for line in kept))
        print(f"resumed at step {step}, {tokens} tokens, stage {args.stage}", flush=True)
    elif log_path.exists():
        log_path.unlink()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.2f}M parameters; budget {args.tokens:,} tokens", flush=True)

    t_start = time.time() - elapsed0
    last_export = time.time()
    model.train()
    metrics: dict = {}
    first_losses: list[float] = []
    probe, threads_now = [0.0, 0.0], args.threads
    def progress_now() -> float:
        p = tokens / args.tokens
        if args.max_minutes > 0:
            p = max(p, (time.time() - t_start) / (args.max_minutes * 60))
        return p

    while progress_now() < 1.0:
        progress = progress_now()
        mix = single_run_mix(progress, copying) if args.stage == "single" else args.stage
        examples = D.example_buffer(args.seed, k, args.buffer, progress, mix)
        batches = make_batches(tokenizer, examples, args.batch_tokens, random.Random(f"{args.seed}-{k}"))
        lr_scale = READING_LR_SCALE if args.stage == "single" and mix == "reading" else 1.0
        for ids, wts, drill in batches:
            lr = lr_scale * lr_at(progress_now(), step - resume_step, args.lr, 150 if not args.smoke else 30, 0.75)
            for g in opt.param_groups:
                g["lr"] = lr
            phase = step % 60
            if args.threads > 1 and phase < 10:  # probe: 5 steps on 1 thread, 5 on all
                torch.set_num_threads(1 if phase < 5 else args.threads)
            t_step = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                loss, nll, w = weighted_loss(model, ids, wts)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            n_tok = int((wts > 0).sum())
            if args.threads > 1 and phase < 10:
                probe[phase >= 5] += (time.perf_counter() - t_step) / ids.numel()
                if phase == 9:
                    threads_now = 1 if probe[0] < probe[1] else args.threads
                    torch.set_num_threads(threads_now)
                    probe = [0.0, 0.0]
            tokens += n_tok
            if bool(drill.any()):
                dw = (wts[drill, 1:] > 1).float()
                d_loss = float((nll.detach()[drill] * dw).sum() / dw.sum().clamp(min=1))
                drill_ema = d_loss if drill_ema is None else 0.9 * drill_ema + 0.1 * d_loss
                if args.stage == "single" and mix != "reading" and drill_ema < COPY_FORMED_LOSS and not copying:
                    copying = True
                    print(f"copying formed at step {step}, {tokens:,} tokens (drill answer loss {drill_ema:.3f})",
                          flush=True)
            if step % 10 == 0 or step == 1 or step == resume_step + 1 or mix != logged_mix:
                logged_mix = mix
                nll, w = nll.detach(), w.detach()
                ans = (w > 1).float()
                rec = {
                    "step": step, "tokens": tokens, "loss": round(loss.item(), 4),
                    "lm_loss": round(float((nll * (w > 0)).sum() / (w > 0).sum()), 4),
                    "answer_loss": round(float((nll * ans).sum() / ans.sum().clamp(min=1)), 4),
                    "lr": round(lr, 6), "elapsed_s": round(time.time() - t_start, 1),
                    "tokens_per_s": round(tokens / max(1e-6, time.time() - t_start)), "threads": threads_now,
                    "stage": args.stage, "mix": mix,
                    "drill_loss": None if drill_ema is None else round(drill_ema, 4),
                }
                if len(first_losses) < 5:
                    first_losses.append(rec["loss"])
                with open(log_path, "a") as fh:
                    fh.write(json.dumps(rec) + "\n")
                print(json.dumps(rec), flush=True)
            if progress_now() >= 1.0:
                break
        k += 1
        metrics = {
            "steps": step, "tokens": tokens, "train_seconds": round(time.time() - t_start, 1),
            "parameters": n_params, "seed": args.seed, "budget_tokens": args.tokens, "lr": args.lr,
            "batch_tokens": args.batch_tokens, "bf16_autocast": args.bf16, "threads": args.threads,
            "max_minutes": args.max_minutes, "buffer": args.buffer, "answer_weight": ANSWER_WEIGHT,
            "stage": args.stage, "copying_formed": copying,
        }
        done = progress_now() >= 1.0
        if time.time() - last_export > args.export_every_min * 60 or done:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "tokens": tokens,
                        "buffer": k, "elapsed": time.time() - t_start, "stage": args.stage,
                        "drill_ema": drill_ema, "copying": copying}, ckpt_dir / "state.pt.tmp")
            (ckpt_dir / "state.pt.tmp").replace(ckpt_dir / "state.pt")
            export(model, tokenizer, out, log_path, metrics | {"finished": done})
            last_export = time.time()
            print(f"exported to {out} at {tokens:,} tokens", flush=True)
    print(json.dumps(metrics), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
