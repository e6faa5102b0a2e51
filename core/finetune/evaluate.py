"""Measuring a model while it fine-tunes: eval loss and accuracy by batched greedy generation.

An answer counts as correct by the Lab's one rule, ``core.scoring.is_correct``: it mentions the
item's ``target`` (its short value, e.g. "$6.50") as a whole value, like every other mark in the Lab.

>>> answers = greedy_answers(model, tokenizer, [build_messages("Who owns Elmby Blooms?", None)])  # doctest: +SKIP
>>> answers                                                                                        # doctest: +SKIP
['Elmby Blooms is owned by Ada Vance.']
"""

from __future__ import annotations

import random
from typing import Sequence

import torch

from core.rag.corpora import QAItem
from core.finetune.data import FinetuneData, collate, micro_batches
from core.scoring import is_correct
from core.llm.prompting import build_messages, encode

GEN_BATCH = 32  # prompts per generate() call
# The Answers page's decoding (core.llm.generation.generate at temperature 0): plain greedy. Set explicitly,
# because generate() otherwise takes a model's own settings (Qwen's sampling and repetition_penalty=1.1),
# and "facts recalled" would then disagree with the answers the same adapter gives on the Answers page.
GREEDY = dict(do_sample=False, num_beams=1, repetition_penalty=1.0, encoder_repetition_penalty=1.0,
              no_repeat_ngram_size=0, encoder_no_repeat_ngram_size=0, min_length=0)


def left_padded(id_lists: Sequence[list[int]], pad_id: int | None) -> dict[str, torch.Tensor]:
    """``input_ids`` and ``attention_mask`` for a batch, padded on the left, built here rather than by the tokenizer.

    WHY: a fast tokenizer asked to pad (``padding=True``, even with ``padding_side`` per call) switches
    padding on in its Rust backend, which every thread shares; a generation in another session that
    tokenises at the same moment switches it off again, and the batch comes back unpadded ("Unable to
    create tensor"). Tokenising each prompt alone and padding here leaves the shared tokenizer untouched.

    >>> left_padded([[5, 6, 7], [8]], 0)["input_ids"].tolist()
    [[5, 6, 7], [0, 0, 8]]
    """
    width = max(len(ids) for ids in id_lists)
    pad = 0 if pad_id is None else int(pad_id)
    ids = torch.tensor([[pad] * (width - len(x)) + list(x) for x in id_lists], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in id_lists], dtype=torch.long)
    return {"input_ids": ids, "attention_mask": mask}


@torch.no_grad()
def greedy_answers(model, tokenizer, messages_list: Sequence[list[dict]], max_new_tokens: int = 40) -> list[str]:
    """Greedy answers for many chat prompts, in left-padded batches of similar length (returned in input order).

    The prompts, their tokens and the decoding are the Answers page's (``core.llm.generation.generate``).
    """
    from core.llm.generation import eos_ids
    from core.llm.loading import is_seq2seq

    model.eval()
    seq2seq = is_seq2seq(model)
    prompts = [encode(tokenizer, m, seq2seq) for m in messages_list]  # the ids generate() would feed
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))  # less padding per batch
    out: dict[int, str] = {}
    for start in range(0, len(order), GEN_BATCH):
        idx = order[start:start + GEN_BATCH]
        enc = left_padded([prompts[i] for i in idx], tokenizer.pad_token_id)
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                             eos_token_id=eos_ids(model, tokenizer), **GREEDY)
        texts = tokenizer.batch_decode(gen if seq2seq else gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        out.update({i: t.strip() for i, t in zip(idx, texts)})
    return [out[i] for i in range(len(prompts))]


def scored_accuracy(model, tokenizer, groups: dict[str, list[tuple[QAItem, str, list[str] | None]]],
                    max_new_tokens: int = 40, style=None) -> dict[str, float | None]:
    """Accuracy per named group of (item, question wording, contexts), generated together in one pass;
    ``style``: the model's prompt layout (open-book rows ask in the layout its answers use)."""
    flat = [(name, it, q, c) for name, rows in groups.items() for it, q, c in rows]
    if not flat:
        return {name: None for name in groups}
    n_new = min(max_new_tokens, tokens_needed(tokenizer, [it for _, it, _, _ in flat]))
    answers = greedy_answers(model, tokenizer, [build_messages(q, c, style=style) for _, _, q, c in flat], n_new)
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
    from core.finetune.step import answer_loss

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
            **scored_accuracy(model, tokenizer, groups, config.max_new_tokens, data.style)}


def recall_ceiling(data, config) -> float:
    """The facts recalled a perfect student would score: the share of evaluated facts whose own reference
    answer passes the Lab's rule (``core.scoring.is_correct``).

    WHY: a reference answer can miss its value as a whole word ("held on Fridays" for "Friday"); an
    adapter that learned every answer word for word then tops out below 1, and an early stop at 1.0
    would never fire. Stopping at the ceiling ends the run when every fact is learned as written.
    """
    rows = eval_groups(data, config)["facts_recalled"]
    return round(sum(is_correct(it.answer, it) for it, _, _ in rows) / len(rows), 4) if rows else 1.0
