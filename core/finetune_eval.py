"""Measuring a model while it fine-tunes: eval loss and accuracy by batched greedy generation.

An answer counts as correct when it contains the item's ``target`` (its short
value, e.g. "$6.50"), case-insensitively — the same test as the Lab's evaluation.

>>> answers = greedy_answers(model, tokenizer, [build_messages("Who owns Elmby Blooms?", None)])  # doctest: +SKIP
>>> answers                                                                                        # doctest: +SKIP
['Elmby Blooms is owned by Ada Vance.']
"""

from __future__ import annotations

import random
from typing import Sequence

import torch

from core.corpora import QAItem
from core.finetune_data import FinetuneData, collate, render_prompt
from core.prompting import build_messages

GEN_BATCH = 32  # prompts per generate() call


def is_correct(answer: str, item: QAItem) -> bool:
    return item.target.strip().lower() in answer.lower()


@torch.no_grad()
def greedy_answers(model, tokenizer, messages_list: Sequence[list[dict]], max_new_tokens: int = 40) -> list[str]:
    """Greedy answers for many chat prompts, generated in left-padded batches."""
    model.eval()
    out: list[str] = []
    for start in range(0, len(messages_list), GEN_BATCH):
        prompts = [render_prompt(tokenizer, m) for m in messages_list[start:start + GEN_BATCH]]
        # padding_side per call: the tokenizer is shared with other threads, so it is never mutated
        enc = tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False)
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        new = gen[:, enc["input_ids"].shape[1]:]
        out += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return out


def accuracy(model, tokenizer, items: Sequence[QAItem], questions: Sequence[str] | None = None,
             contexts: Sequence[list[str] | None] | None = None, max_new_tokens: int = 40) -> float | None:
    """Fraction of ``items`` answered correctly; ``questions`` overrides the wording (paraphrases)."""
    if not items:
        return None
    questions = questions or [it.question for it in items]
    contexts = contexts or [None] * len(items)
    messages = [build_messages(q, c) for q, c in zip(questions, contexts)]
    answers = greedy_answers(model, tokenizer, messages, min(max_new_tokens, tokens_needed(tokenizer, items)))
    return round(sum(is_correct(a, it) for a, it in zip(answers, items)) / len(items), 4)


def tokens_needed(tokenizer, items: Sequence[QAItem]) -> int:
    """New tokens a correct answer needs: the reference answer up to the end of its target, plus slack.

    Generation stops there: later tokens cannot change whether the target appears (for the
    reference wording), and on 2 CPU cores every generated token counts.
    """
    longest = 0
    for it in items:
        at = it.answer.lower().find(it.target.lower())
        upto = it.answer[: at + len(it.target)] if at >= 0 else it.answer
        longest = max(longest, len(tokenizer(upto, add_special_tokens=False)["input_ids"]))
    return longest + 4


@torch.no_grad()
def eval_loss(model, examples, pad_id: int, batch_size: int = 32) -> float | None:
    """Mean per-token loss over ``examples`` (answer tokens only for Q&A)."""
    if not examples:
        return None
    model.eval()
    total, n = 0.0, 0
    for start in range(0, len(examples), batch_size):
        batch = collate(examples[start:start + batch_size], pad_id)
        tokens = int((batch["labels"][:, 1:] != -100).sum())
        total += float(model(**batch).loss) * tokens
        n += tokens
    return round(total / max(n, 1), 5)


def _sample(items: Sequence[QAItem], k: int, seed: int) -> list[QAItem]:
    items = list(items)
    return items if len(items) <= k else random.Random(seed).sample(items, k)


def evaluate(model, tokenizer, data: FinetuneData, config, general_items: Sequence[QAItem] = ()) -> dict:
    """One evaluation row: eval_loss, facts_recalled, paraphrase_recalled, general_recalled, open_book_accuracy."""
    k, n_new = config.max_eval_questions, config.max_new_tokens
    facts = _sample(data.train_items, k, config.seed)
    row = {"eval_loss": eval_loss(model, data.val, tokenizer.pad_token_id),
           "facts_recalled": accuracy(model, tokenizer, facts, max_new_tokens=n_new)}
    para = [(it, it.paraphrases[-1]) for it in facts if it.paraphrases]  # the last one is never trained on by default
    row["paraphrase_recalled"] = accuracy(model, tokenizer, [it for it, _ in para], [q for _, q in para],
                                          max_new_tokens=n_new) if para else None
    row["general_recalled"] = accuracy(model, tokenizer, _sample(general_items, k, config.seed), max_new_tokens=n_new)
    open_items = [it for it in facts if it.question in data.passages]
    row["open_book_accuracy"] = accuracy(
        model, tokenizer, open_items, contexts=[data.passages[it.question] for it in open_items], max_new_tokens=n_new,
    ) if open_items else None
    return row
