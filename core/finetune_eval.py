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
from core.finetune_data import FinetuneData, collate, micro_batches
from core.prompting import adds_special_tokens, build_messages, has_chat_template, render_prompt

GEN_BATCH = 32  # prompts per generate() call
# The Answers page's decoding (core.generation.generate at temperature 0): plain greedy. Set explicitly,
# because generate() otherwise takes a model's own settings (Qwen's sampling and repetition_penalty=1.1),
# and "facts recalled" would then disagree with the answers the same adapter gives on the Answers page.
GREEDY = dict(do_sample=False, num_beams=1, repetition_penalty=1.0, encoder_repetition_penalty=1.0,
              no_repeat_ngram_size=0, encoder_no_repeat_ngram_size=0, min_length=0)


def is_correct(answer: str, item: QAItem) -> bool:
    return item.target.strip().lower() in answer.lower()


@torch.no_grad()
def greedy_answers(model, tokenizer, messages_list: Sequence[list[dict]], max_new_tokens: int = 40) -> list[str]:
    """Greedy answers for many chat prompts, in left-padded batches of similar length (returned in input order).

    The prompts, their tokens and the decoding are the Answers page's (``core.generation.generate``).
    """
    from core.generation import eos_ids, is_seq2seq

    model.eval()
    seq2seq = is_seq2seq(model)
    prompts = [render_prompt(tokenizer, m) for m in messages_list]
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))  # less padding per batch
    out: dict[int, str] = {}
    for start in range(0, len(order), GEN_BATCH):
        idx = order[start:start + GEN_BATCH]
        # padding_side per call: the tokenizer is shared with other threads, so it is never mutated
        special = adds_special_tokens(tokenizer, prompts[idx[0]], has_chat_template(tokenizer), seq2seq)
        enc = tokenizer([prompts[i] for i in idx], return_tensors="pt", padding=True, padding_side="left",
                        add_special_tokens=special)
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                             eos_token_id=eos_ids(model, tokenizer), **GREEDY)
        texts = tokenizer.batch_decode(gen if seq2seq else gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        out.update({i: t.strip() for i, t in zip(idx, texts)})
    return [out[i] for i in range(len(prompts))]


def scored_accuracy(model, tokenizer, groups: dict[str, list[tuple[QAItem, str, list[str] | None]]],
                    max_new_tokens: int = 40) -> dict[str, float | None]:
    """Accuracy per named group of (item, question wording, contexts), generated together in one pass."""
    flat = [(name, it, q, c) for name, rows in groups.items() for it, q, c in rows]
    if not flat:
        return {name: None for name in groups}
    n_new = min(max_new_tokens, tokens_needed(tokenizer, [it for _, it, _, _ in flat]))
    answers = greedy_answers(model, tokenizer, [build_messages(q, c) for _, _, q, c in flat], n_new)
    out = {}
    for name in groups:
        hits = [is_correct(a, it) for (g, it, _, _), a in zip(flat, answers) if g == name]
        out[name] = round(sum(hits) / len(hits), 4) if hits else None
    return out


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
def eval_loss(model, examples, pad_id: int, batch_size: int = 16) -> float | None:
    """Mean per-token loss over ``examples`` (answer tokens only for Q&A), in length-bucketed batches."""
    from core.finetune_step import answer_loss

    if not examples:
        return None
    model.eval()
    total, n = 0.0, 0
    for group in micro_batches(examples, range(len(examples)), batch_size):
        loss_sum, tokens = answer_loss(model, collate([examples[i] for i in group], pad_id))
        total += float(loss_sum)
        n += tokens
    return round(total / max(n, 1), 5)


def _sample(items: Sequence[QAItem], k: int, seed: int) -> list[QAItem]:
    items = list(items)
    return items if len(items) <= k else random.Random(seed).sample(items, k)


def eval_groups(data: FinetuneData, config, general_items: Sequence[QAItem] = ()) -> dict[str, list]:
    """The questions one evaluation asks, per metric: (item, wording, contexts or None)."""
    k = config.max_eval_questions
    facts = _sample(data.train_items, k, config.seed)
    return {
        "facts_recalled": [(it, it.question, None) for it in facts],
        # the last paraphrase: never trained on unless paraphrases ≥ the number each row has
        "paraphrase_recalled": [(it, it.paraphrases[-1], None) for it in facts if it.paraphrases],
        "general_recalled": [(it, it.question, None) for it in _sample(general_items, k, config.seed)],
        "open_book_accuracy": [(it, it.question, data.passages[it.question]) for it in facts if it.question in data.passages],
    }


def evaluate(model, tokenizer, data: FinetuneData, config, general_items: Sequence[QAItem] = ()) -> dict:
    """One evaluation row: eval_loss, facts_recalled, paraphrase_recalled, general_recalled, open_book_accuracy."""
    groups = eval_groups(data, config, general_items)
    return {"eval_loss": eval_loss(model, data.val, tokenizer.pad_token_id),
            **scored_accuracy(model, tokenizer, groups, config.max_new_tokens)}
