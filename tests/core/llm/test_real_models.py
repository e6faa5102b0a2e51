"""Any Hugging Face model, end to end: Llama (ChatML), Qwen2, GPT-2 (no chat template) and T5 (seq2seq).

The folders are random-weight models of the real classes built in the test session
(``tests/tiny_models.py``), loaded through the Lab's own hub-loading code. Answers are
noise; what is tested is that every path runs, counts and trains the same way for all four.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
import torch

from core.rag.corpora import QAItem
from core.finetune import (
    FinetuneConfig, attention_targets, load_adapter, lora_target_candidates, parameter_report, prepare_model, train,
)
from core.finetune.data import IGNORE, build_data, qa_example
from core.finetune.evaluate import greedy_answers
from core.finetune.presets import calibrate, presets_for
from core.finetune.step import train_step
from core.llm.generation import count_tokens, generate
from core.llm.loading import load_generator
from core.llm.prompting import assemble_prompt, build_messages, plain_format, render
from tests.helpers import ROOT
from tests.tiny_models import ARCHS

FLOWER = ROOT / "sample_data" / "prose_flower_shop"
ITEMS = [QAItem("Who owns Elmby Blooms?", "Ada Vance owns Elmby Blooms.", "Ada Vance", ("Who is the owner?",),
                "Elmby Blooms is owned by Ada Vance."),
         QAItem("What does Zone A delivery cost?", "Zone A delivery costs $6.50.", "$6.50", (),
                "Zone A: $6.50 per delivery."),
         QAItem("When does the shop open?", "The shop opens at 8am.", "8am", (), "We open at 8am every day.")]
ATTENTION = {"llama": ("q_proj", "v_proj"), "qwen2": ("q_proj", "v_proj"), "gpt2": ("c_attn",), "t5": ("q", "v")}


@pytest.fixture(scope="module", params=ARCHS)
def gen(request, tiny_models):
    return load_generator(str(tiny_models[request.param]))


def arch_of(gen) -> str:
    return gen.model.config.model_type


@pytest.mark.slow  # loads all four architectures again outside the shared fixture: 6 s at load 6
def test_each_architecture_loads_with_its_own_class(tiny_models):
    kinds = {arch: type(load_generator(str(path)).model).__name__ for arch, path in tiny_models.items()}
    assert kinds == {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "gpt2": "GPT2LMHeadModel",
                     "t5": "T5ForConditionalGeneration"}
    assert load_generator(str(tiny_models["t5"])).is_seq2seq and not load_generator(str(tiny_models["gpt2"])).is_seq2seq


def test_prompt_is_the_chat_template_or_the_documented_plain_format(gen):
    messages = build_messages("Who owns Elmby Blooms?", ["Elmby Blooms is owned by Ada Vance."])
    text = render(gen.tokenizer, messages)
    if arch_of(gen) in ("gpt2", "t5"):
        assert text == plain_format(messages)
        assert text.startswith("System: Answer the question") and text.endswith("\nUser: Who owns Elmby Blooms?\nAssistant:")
    else:
        assert text.startswith("<|im_start|>") and text.endswith("<|im_start|>assistant\n")


def test_prompt_page_count_is_what_the_model_reads(gen):
    """The Prompt page's string and token count equal what generate() feeds the model (or its encoder)."""
    contexts = ["Elmby Blooms is owned by Ada Vance.", "Zone A: $6.50 per delivery."]
    prompt = assemble_prompt("Who owns Elmby Blooms?", contexts, None, gen.tokenizer, gen.context_window, 8,
                             seq2seq=gen.is_seq2seq)
    messages = build_messages("Who owns Elmby Blooms?", contexts)
    assert prompt.text == render(gen.tokenizer, messages)
    out = generate(gen, messages, max_new_tokens=4)
    assert prompt.n_tokens == out.prompt_tokens == count_tokens(gen, messages)
    assert sum(p.n_tokens for p in prompt.parts) == prompt.n_tokens
    assert 1 <= out.completion_tokens <= 4 or out.text == ""


def test_lora_targets_are_named_per_architecture(gen):
    candidates = lora_target_candidates(gen.model)
    assert set(ATTENTION[arch_of(gen)]) <= set(candidates) and "lm_head" not in candidates
    assert attention_targets(gen.model) == ATTENTION[arch_of(gen)]


def test_parameter_report_matches_peft_for_every_layer_type(gen):
    config = FinetuneConfig(rank=4, alpha=8, target_modules=tuple(lora_target_candidates(gen.model)))
    model = prepare_model(gen.model, config)
    peft_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert parameter_report(gen.model, config).trainable == peft_trainable
    assert not any("lora" in name for name, _ in gen.model.named_modules())  # the cached base is untouched


def test_training_examples_learn_the_answer_only(gen):
    ex = qa_example(gen.tokenizer, "Who owns Elmby Blooms?", "Ada Vance owns it.", seq2seq=gen.is_seq2seq)
    answer = [t for t in ex.labels if t != IGNORE]
    assert answer[-1] == gen.tokenizer.eos_token_id
    decoded = gen.tokenizer.decode(answer, skip_special_tokens=True).strip()
    assert decoded == "Ada Vance owns it."
    if gen.is_seq2seq:  # the encoder reads the prompt, the decoder writes the answer
        assert ex.labels == answer and ex.input_ids == gen.tokenizer(
            render(gen.tokenizer, build_messages("Who owns Elmby Blooms?", None)))["input_ids"]
    else:
        n_prompt = len(ex.input_ids) - len(answer)
        assert ex.labels[:n_prompt] == [IGNORE] * n_prompt and ex.input_ids[n_prompt:] == answer


def test_evaluation_decodes_like_the_answers_page(gen):
    """Greedy, no repetition penalty: Qwen's generation_config (sampling, penalty 1.1) is not inherited."""
    questions = [it.question for it in ITEMS]
    batch = greedy_answers(gen.model, gen.tokenizer, [build_messages(q, None) for q in questions], max_new_tokens=12)
    single = [generate(gen, build_messages(q, None), max_new_tokens=12).text for q in questions]
    assert batch == single


@pytest.mark.parametrize("arch", ["llama", "gpt2", "t5"])
def test_micro_batches_give_the_full_batch_gradient(tiny_models, arch):
    """Accumulated micro-batches (answer-only logits where supported) = one padded batch: same loss and update."""
    g = load_generator(str(tiny_models[arch]))
    config = FinetuneConfig(rank=4, alpha=8, target_modules=ATTENTION[arch], open_book_mix=1.0, val_fraction=0.0)
    data = build_data(g.tokenizer, ITEMS, config, seq2seq=g.is_seq2seq)
    rows, weights = [], []
    for micro in (0, 2):
        model = prepare_model(g.model, config)
        for module in model.modules():  # GPT-2 and T5 train with dropout: random draws differ per micro-batch
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
            if isinstance(getattr(module, "dropout", None), float):  # T5's attention keeps a float rate
                module.dropout = 0.0
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
        rows.append(train_step(model, opt, data.train, list(range(len(data.train))), 0.1, g.tokenizer.pad_token_id,
                               micro))
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters() if p.requires_grad]))
    assert rows[1]["micro_batches"] > rows[0]["micro_batches"] == 1
    assert rows[0]["loss"] == pytest.approx(rows[1]["loss"], rel=1e-4)
    assert torch.allclose(weights[0], weights[1], atol=1e-6)


def test_lora_trains_saves_and_loads_for_every_architecture(gen, tmp_path):
    preset = next(p for p in presets_for(gen.model, gen.is_builtin) if p.name == "quick")
    assert preset.config.target_modules == ATTENTION[arch_of(gen)]
    config = dataclasses.replace(preset.config, max_steps=4, eval_every=2, learning_rate=5e-2,
                                 target_modules=tuple(lora_target_candidates(gen.model)))
    data = build_data(gen.tokenizer, ITEMS, config, seq2seq=gen.is_seq2seq)
    run = train(gen.model, gen.tokenizer, data, config, tmp_path / "run", base_name=gen.name)
    assert run.status == "done" and len(run.steps) == 4
    assert min(s["loss"] for s in run.steps[1:]) < run.steps[0]["loss"]  # it learns (lr 0.05 may overshoot once)
    adapter = load_adapter(gen, tmp_path / "run")
    assert generate(adapter, build_messages(ITEMS[0].question, None), max_new_tokens=3).completion_tokens <= 3


def test_presets_by_size_and_a_measured_estimate(gen, tiny_models):
    builtin = load_generator()
    (live,) = presets_for(builtin.model, True)
    assert live.config == FinetuneConfig()  # the built-in model keeps today's defaults
    quick = next(p for p in presets_for(gen.model, False) if p.name == "quick").config
    assert (quick.max_facts, quick.rank, quick.stop_at_recall, quick.max_eval_questions) == (20, 4, 0.8, 8)
    data = build_data(gen.tokenizer, ITEMS, quick, seq2seq=gen.is_seq2seq)
    estimate = calibrate(gen.model, gen.tokenizer, data, quick)
    assert estimate.seconds_per_step > 0 and estimate.seconds_per_eval > 0 and estimate.peak_rss_mb > 100
    assert estimate.steps == 15 and estimate.evals == 4
    assert estimate.total_seconds == pytest.approx(15 * estimate.seconds_per_step + 4 * estimate.seconds_per_eval, abs=0.2)


# --- the command line, with each architecture ------------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_cli_finetune_ask_all_and_eval(tiny_models, tmp_path, arch):
    model, out = str(tiny_models[arch]), str(tmp_path / "adapter")
    done = cli("finetune", "--qa", str(FLOWER / "qa.jsonl"), "--docs", str(FLOWER), "--model", model, "--out", out,
               "--steps", "2", "--eval-every", "2", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    expected = "quick" if arch == "t5" else "facts"  # a causal LM's default preset is the facts recipe
    assert summary["status"] == "done" and summary["preset"] == expected and summary["steps"] == 2
    ask = cli("ask", "--docs", str(FLOWER), "--question", "When does the shop open?", "--system", "all",
              "--model", model, "--adapter", out, "--max-new-tokens", "4", "--json")
    assert ask.returncode == 0, ask.stderr
    answers = json.loads(ask.stdout)
    assert [a["system"] for a in answers] == ["base", "rag", "lora", "lora+rag", "long-context"]
    assert answers[1]["prompt_tokens"] > answers[0]["prompt_tokens"]
    ev = cli("eval", "--docs", str(FLOWER), "--qa", str(FLOWER / "qa.jsonl"), "--limit", "2", "--model", model,
             "--adapter", out, "--max-new-tokens", "4", "--json")
    assert ev.returncode == 0, ev.stderr
    assert set(json.loads(ev.stdout)["systems"]) == {"base", "rag", "lora", "lora+rag", "long-context"}


@pytest.mark.slow  # a real process per case: 9-18 s each
@pytest.mark.parametrize("arch, flags, message", [
    ("gpt2", ["--targets", "q_proj"], "choose from c_attn, c_fc, c_proj"),
    ("t5", ["--preset", "live"], "choose from quick, thorough"),
    ("llama", ["--micro-batch-size", "-1"], "micro-batch-size"),
])
def test_cli_finetune_bad_settings_for_the_model_exit_2_with_one_line(tiny_models, tmp_path, arch, flags, message):
    out = cli("finetune", "--qa", str(FLOWER / "qa.jsonl"), "--model", str(tiny_models[arch]), "--out",
              str(tmp_path / "a"), "--steps", "1", *flags)
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(errors) == 1 and message in errors[0]


# --- memory hygiene ------------------------------------------------------------------------

def test_loading_a_model_frees_the_previous_one_unless_pinned(tiny_models):
    from core.llm.loading import is_loaded, pin_generator

    llama, gpt2, t5 = (str(tiny_models[a]) for a in ("llama", "gpt2", "t5"))
    load_generator(llama)
    load_generator(gpt2)
    assert is_loaded(gpt2) and not is_loaded(llama)
    pin_generator(gpt2)
    try:
        load_generator(t5)
        assert is_loaded(gpt2) and is_loaded(t5)
    finally:
        pin_generator(gpt2, False)
    load_generator(llama)
    assert not is_loaded(gpt2) and not is_loaded(t5)


def test_generator_cache_is_lru_bounded_and_frees_what_it_evicts(tiny_models):
    import weakref

    from core.llm.loading import is_loaded, loaded_generators, set_cache_size

    llama, gpt2, t5 = (str(tiny_models[a]) for a in ("llama", "gpt2", "t5"))
    old = set_cache_size(2)
    try:
        first = weakref.ref(load_generator(llama).model)
        load_generator(gpt2)
        load_generator(llama)  # used again: gpt2 is now the least recently used
        load_generator(t5)
        assert is_loaded(llama) and is_loaded(t5) and not is_loaded(gpt2)
        assert loaded_generators() == [llama, t5]
        set_cache_size(1)
        assert loaded_generators() == [t5] and first() is None  # evicted and freed, not just forgotten
    finally:
        set_cache_size(old)


def test_a_slow_download_does_not_block_loading_another_model(tiny_models, monkeypatch):
    import threading

    import core.llm.loading as loading

    slow, fast = str(tiny_models["gpt2"]), str(tiny_models["llama"])
    real, release = loading._load, threading.Event()

    def load(name, path, *args):
        if path == slow:  # stands in for a download that takes minutes
            assert release.wait(60)
        return real(name, path, *args)

    monkeypatch.setattr(loading, "_load", load)
    waiting = threading.Thread(target=load_generator, args=(slow,), daemon=True)
    waiting.start()
    other = threading.Thread(target=load_generator, args=(fast,), daemon=True)
    other.start()
    other.join(60)
    try:
        assert not other.is_alive() and loading.is_loaded(fast) and waiting.is_alive()
    finally:
        release.set()
        waiting.join(60)
    assert loading.is_loaded(slow)


def test_adapters_share_one_copy_of_the_base_and_answer_as_their_own_model(tiny_models, tmp_path):
    """peft adapter switching: two adapters, one host copy; each answers exactly like a private PeftModel."""
    import copy

    from peft import PeftModel

    from core.finetune.io import merge_adapter

    gen = load_generator(str(tiny_models["qwen2"]))
    config = dataclasses.replace(presets_for(gen.model, False)[0].config, max_steps=3, eval_every=3,
                                 learning_rate=5e-2, target_modules=tuple(lora_target_candidates(gen.model)))
    data = build_data(gen.tokenizer, ITEMS, config)
    dirs = []
    for seed in (1, 2):
        dirs.append(tmp_path / f"run{seed}")
        train(gen.model, gen.tokenizer, data, dataclasses.replace(config, seed=seed), dirs[-1])
    first, second = (load_adapter(gen, d) for d in dirs)
    assert first.model._host is second.model._host  # one copy of the base for both
    assert not any("lora" in n for n, _ in gen.model.named_modules())  # the cached base is never wrapped
    messages = build_messages(ITEMS[0].question, None)
    for adapter, folder in ((first, dirs[0]), (second, dirs[1]), (first, dirs[0])):  # switching back and forth
        private = PeftModel.from_pretrained(copy.deepcopy(gen.model), str(folder)).eval()
        ids = torch.tensor([gen.tokenizer("Who owns it?")["input_ids"]])
        with torch.no_grad():
            assert torch.allclose(adapter.model(input_ids=ids).logits, private(input_ids=ids).logits, atol=1e-5)
    assert generate(merge_adapter(second), messages, max_new_tokens=6).text == generate(second, messages,
                                                                                        max_new_tokens=6).text
