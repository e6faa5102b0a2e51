"""One optimiser step that fits a laptop: micro-batches, answer-only logits, measured memory.

A step's examples are cut into length-bucketed micro-batches (``micro_batches``); each
one's loss is summed over its answer tokens and divided by the answer tokens of the
WHOLE step, so the accumulated gradient equals the one of a single padded full batch
(the same mean loss), while memory follows the micro-batch, not the data set.

For a causal LM that accepts ``logits_to_keep`` the vocabulary projection runs only
from the first answer position on: on a 49k-token vocabulary the logits of a padded
prompt are most of a step's memory.

>>> row = train_step(model, optimizer, data.train, [0, 1, 2, 3], lr=1e-3, pad_id=0, micro=2)  # doctest: +SKIP
>>> sorted(row)                                                                            # doctest: +SKIP
['loss', 'lr', 'micro_batches', 'seconds', 'tokens', 'tokens_per_s']
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from core.finetune.data import IGNORE, Example, collate, micro_batches


def _base(model):
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def keeps_logits(model) -> bool:
    """True when the (possibly peft-wrapped) causal LM can skip logits it does not need."""
    from core.llm.generation import _takes_logits_to_keep
    from core.llm.loading import is_seq2seq

    return not is_seq2seq(model) and _takes_logits_to_keep(type(_base(model)))


def n_targets(labels: torch.Tensor, seq2seq: bool) -> int:
    """Tokens the loss counts: every label for seq2seq; for a causal LM all but each row's first (shifted)."""
    return int((labels != IGNORE).sum() if seq2seq else (labels[:, 1:] != IGNORE).sum())


def answer_loss(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """(summed cross-entropy over the answer tokens, their number) for one micro-batch."""
    from core.llm.loading import is_seq2seq

    labels = batch["labels"]
    if not keeps_logits(model):
        seq2seq = is_seq2seq(model)
        n = n_targets(labels, seq2seq)
        return model(**batch).loss * n, n
    # position t predicts token t+1: targets are the labels shifted left; keep logits from the first one on
    targets = torch.cat([labels[:, 1:], labels.new_full((labels.shape[0], 1), IGNORE)], dim=1)
    wanted = (targets != IGNORE).any(dim=0).nonzero()
    keep = targets.shape[1] - (int(wanted[0]) if len(wanted) else targets.shape[1] - 1)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=keep).logits
    loss = F.cross_entropy(logits[:, -keep:].float().reshape(-1, logits.shape[-1]), targets[:, -keep:].reshape(-1),
                           ignore_index=IGNORE, reduction="sum")
    return loss, int((targets != IGNORE).sum())


def train_step(model, optimizer, examples: Sequence[Example], idx: Sequence[int], lr: float, pad_id: int,
               micro: int = 0, bf16: bool = False) -> dict:
    """One optimiser step over ``examples[idx]`` in micro-batches of ``micro`` (0 = one batch).

    ``bf16``: forward and backward under bfloat16 autocast (the weights and the optimiser stay fp32).
    """
    from core.llm.loading import is_seq2seq

    t = time.perf_counter()
    model.train()
    batches = [collate([examples[i] for i in group], pad_id) for group in micro_batches(examples, idx, micro)]
    seq2seq = is_seq2seq(model)
    n_total = max(1, sum(n_targets(b["labels"], seq2seq) for b in batches))
    for group in optimizer.param_groups:
        group["lr"] = lr
    total = 0.0
    for batch in batches:  # gradients accumulate: the sum over micro-batches is the full batch's mean loss
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss_sum, _ = answer_loss(model, batch)
        (loss_sum / n_total).backward()
        total += float(loss_sum.detach())
    torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    seconds = time.perf_counter() - t
    n_tokens = sum(int(b["attention_mask"].sum()) for b in batches)
    return {"loss": round(total / n_total, 5), "lr": lr, "tokens": n_tokens, "micro_batches": len(batches),
            "tokens_per_s": round(n_tokens / max(seconds, 1e-9), 1), "seconds": seconds}


@dataclass(frozen=True)
class Estimate:
    """A run's cost on this machine, from one measured step and one measured evaluation."""

    seconds_per_step: float
    seconds_per_eval: float
    steps: int
    evals: int
    total_seconds: float  # steps × seconds_per_step + evals × seconds_per_eval (an early stop ends sooner)
    peak_rss_mb: float  # the process's peak while training a step: weights, optimiser state and activations
    added_mb: float  # what training added over the memory in use before it started
    cpu_seconds_per_step: float = 0.0  # CPU time (all threads): the step's cost on an otherwise idle machine
    cpu_seconds_per_eval: float = 0.0

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)
