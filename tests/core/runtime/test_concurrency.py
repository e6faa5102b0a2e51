"""A workshop server: one training job evaluates itself while other sessions ask questions of the same model.

The job's evaluation generates in left-padded batches and every other session tokenises
single prompts with the same cached tokenizer. Before the fix, the batch tokenisation
switched padding on in the tokenizer's shared backend and a concurrent call switched it off,
so evaluations failed with "Unable to create tensor" (and the job with them).
"""

from __future__ import annotations

import threading
import time

import pytest

from core.rag.corpora import list_corpora, load_qa
from core.finetune import FinetuneConfig
from core.finetune.job import training_job
from core.llm.generation import count_tokens, generate
from core.llm.loading import load_generator
from core.runtime.jobs import JobQueue
from core.llm.prompting import build_messages

MIN_SECONDS = 30


@pytest.mark.slow
def test_training_with_evaluation_while_others_generate(tmp_path, monkeypatch):
    import core.finetune.evaluate

    # small evaluation batches: many batched tokenisations, each a chance to meet another session's call
    monkeypatch.setattr(core.finetune.evaluate, "GEN_BATCH", 4)
    gen = load_generator()
    corpus = next(c for c in list_corpora() if c.builtin_model_reads)
    qa = load_qa(corpus.qa_path)[:24]
    # an evaluation after every step: batched generation runs most of the time the job runs
    config = FinetuneConfig(max_steps=8, eval_every=1, max_eval_questions=16, max_new_tokens=12, val_fraction=0.1)
    queue = JobQueue()
    job_id = queue.submit(training_job("me", tmp_path / "run", gen.model, gen.tokenizer, qa, config))
    answers, errors, counted, stop = [], [], [], threading.Event()

    def ask(offset: int) -> None:
        i = offset
        while not stop.is_set():
            item = qa[i % len(qa)]
            messages = build_messages(item.question, [item.answer] if i % 2 else None)
            try:
                n = count_tokens(gen, messages)
                out = generate(gen, messages, max_new_tokens=8)
                answers.append((n, out))
            except Exception as exc:  # noqa: BLE001 - every failure is reported below
                errors.append(repr(exc))
            i += 3

    def count() -> None:  # the Prompt page: token counts, as fast as they come
        while not stop.is_set():
            try:
                counted.append(count_tokens(gen, build_messages(qa[len(counted) % len(qa)].question, None)))
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

    threads = [threading.Thread(target=ask, args=(k,), daemon=True) for k in range(2)]
    threads += [threading.Thread(target=count, daemon=True) for _ in range(2)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    final = queue.wait(job_id, timeout=400)
    while time.monotonic() - t0 < MIN_SECONDS:  # keep the others asking for at least 30 s in all
        time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(60)

    assert final is not None and final.state == "done", final and (final.state, final.message)
    assert errors == []
    assert len(answers) > 20 and len(counted) > 100 and all(n > 0 for n in counted)
    for n, out in answers:  # well formed: a prompt was counted, the answer is text made of new tokens
        assert n > 0 and out.prompt_tokens == n
        assert isinstance(out.text, str) and 0 <= out.completion_tokens <= 8
    evals = final.metrics
    assert evals.get("facts_recalled") is not None and evals.get("eval_step") is not None
