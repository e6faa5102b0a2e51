"""The real-model recipe: answer-only loss, adapters on the upper blocks only, the "facts" preset as data,
reading settings (prompt layout, copy unit) and int8; one slow test trains the real English model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from core.errors import ConfigError
from core.finetune import FinetuneConfig, all_targets, parameter_report, prepare_model, train
from core.finetune.data import IGNORE, build_data, qa_example
from core.finetune.layers import adapted_layers, block_index, upper_indices
from core.finetune.presets import FACTS, preset_from_dict, presets_for
from core.finetune.step import train_step
from core.llm.generation import generate
from core.llm.loading import load_generator
from core.llm.prompting import PromptStyle, build_messages, render
from core.llm.profiles import ModelProfile
from core.llm.reading import with_reading
from core.rag.corpora import QAItem
from tests.tiny_models import build

ITEMS = [QAItem("Who started the Kestrel Bay Ferry?", "The Kestrel Bay Ferry was started by Ines Varga.", "Ines Varga"),
         QAItem("In which year did the ferry service begin?", "The ferry service began in 1974.", "1974"),
         QAItem("What is the name of the ferry's boat?", "The ferry's boat is the Silver Heron.", "Silver Heron")]
REAL = Path("/work/smollm2-135m-instruct")


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    """A random-weight Llama of 6 blocks (ChatML template), so that "the upper half" is 3 blocks."""
    return load_generator(str(build("llama", tmp_path_factory.mktemp("llama6") / "llama", layers=6)))


# --- answer-only loss ---------------------------------------------------------------

@pytest.mark.parametrize("loss_on", ["answer", "all"])
def test_answer_only_loss_masks_every_prompt_token(llama, loss_on):
    tok = llama.tokenizer
    ex = qa_example(tok, ITEMS[0].question, ITEMS[0].answer, loss_on=loss_on)
    prompt = tok(render(tok, build_messages(ITEMS[0].question, None)), add_special_tokens=False)["input_ids"]
    answer = ex.input_ids[len(prompt):]
    assert ex.input_ids[:len(prompt)] == prompt and answer[-1] == tok.eos_token_id
    assert ex.labels[len(prompt):] == answer  # the answer and its end-of-text are always learned
    assert ex.labels[:len(prompt)] == ([IGNORE] * len(prompt) if loss_on == "answer" else prompt)


def test_the_config_chooses_the_loss_and_the_data_follows(llama):
    data = build_data(llama.tokenizer, ITEMS, FinetuneConfig(loss_on="all", val_fraction=0.0, open_book_mix=0.0))
    assert all(IGNORE not in ex.labels for ex in data.train)
    data = build_data(llama.tokenizer, ITEMS, FinetuneConfig(val_fraction=0.0, open_book_mix=0.0))
    assert all(ex.labels[0] == IGNORE and ex.n_answer_tokens < len(ex.labels) for ex in data.train)


# --- adapters on the upper blocks ----------------------------------------------------

@pytest.mark.parametrize("share, expected", [(1.0, None), (0.5, [3, 4, 5]), (0.34, [3, 4, 5]), (0.01, [5])])
def test_upper_layers_selects_the_top_blocks(llama, share, expected):
    layers, pattern = adapted_layers(llama.model, share)
    assert layers == expected and (pattern is None) == (expected is None)
    if expected:
        assert pattern == "layers" and upper_indices(6, share) == expected


def test_only_the_upper_blocks_get_adapters_and_gradients(llama):
    config = FinetuneConfig(rank=4, target_modules=all_targets(llama.model), upper_layers=0.5)
    model = prepare_model(llama.model, config)
    lora = {n for n, p in model.named_parameters() if p.requires_grad}
    assert lora and {block_index(n, "layers") for n in lora} == {3, 4, 5}
    assert sum(model.get_parameter(n).numel() for n in lora) == parameter_report(llama.model, config).trainable
    whole = parameter_report(llama.model, dataclasses.replace(config, upper_layers=1.0)).trainable
    assert parameter_report(llama.model, config).trainable * 2 == whole
    data = build_data(llama.tokenizer, ITEMS, dataclasses.replace(config, val_fraction=0.0, open_book_mix=0.0))
    reached = []  # the backward pass ends at the lowest adapted block: nothing below gets a gradient
    hooks = [block.register_full_backward_hook(lambda m, gi, go, i=i: reached.append(i))
             for i, block in enumerate(model.get_base_model().model.layers)]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    row = train_step(model, optimizer, data.train, list(range(len(data.train))), 1e-3, llama.tokenizer.pad_token_id)
    for hook in hooks:
        hook.remove()
    assert row["loss"] > 0 and set(reached) == {3, 4, 5}
    assert not any("lora" in n for n, _ in llama.model.named_modules())  # the cached base was never wrapped


@pytest.mark.parametrize("kwargs, message", [
    ({"upper_layers": 0.0}, "upper_layers must be greater than 0 and at most 1 (got 0.0); 0.5 adapts the upper half"),
    ({"upper_layers": 1.5}, "upper_layers must be greater than 0 and at most 1 (got 1.5); 0.5 adapts the upper half"),
    ({"loss_on": "prompt"}, "loss_on must be one of answer, all (got 'prompt')"),
    ({"bf16": "yes"}, "bf16 must be true or false (got 'yes')"),
    ({"threads": -1}, "threads must be 0 (the Lab's rule) to 256 (got -1)"),
])
def test_recipe_settings_are_validated_with_exact_messages(kwargs, message):
    with pytest.raises(ConfigError) as err:
        FinetuneConfig(**kwargs)
    assert str(err.value) == message


def test_bf16_autocast_trains_the_same_step(llama):
    config = FinetuneConfig(rank=4, target_modules=("q_proj", "v_proj"), val_fraction=0.0, open_book_mix=0.0)
    data = build_data(llama.tokenizer, ITEMS, config)
    losses = []
    for bf16 in (False, True):
        model = prepare_model(llama.model, config)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        losses.append(train_step(model, optimizer, data.train, [0, 1, 2], 1e-3, llama.tokenizer.pad_token_id,
                                 bf16=bf16)["loss"])
    assert losses[1] == pytest.approx(losses[0], rel=0.05)


# --- the facts preset as data ---------------------------------------------------------

def test_facts_is_the_default_preset_of_a_real_causal_lm_and_resolves_its_targets(llama):
    first = presets_for(llama.model, False)[0]
    assert first.name == "facts" and first.config.target_modules == all_targets(llama.model)
    assert (first.config.upper_layers, first.config.stop_at_recall, first.config.loss_on) == (0.5, 1.0, "answer")
    own = presets_for(llama.model, ModelProfile(presets=({"name": "mine", "label": "Mine", "why": "",
                                                          "config": {"rank": 2, "target_modules": "attention"}},)))
    assert [p.name for p in own] == ["mine"] and own[0].config.target_modules == ("q_proj", "v_proj")
    with pytest.raises(ConfigError, match="unknown settings: rnak"):
        preset_from_dict({"name": "typo", "config": {"rnak": 2}}, llama.model)
    assert preset_from_dict(FACTS, llama.model).config.to_dict()["rank"] == FACTS["config"]["rank"]


# --- reading settings --------------------------------------------------------------------

def test_a_profiles_reading_settings_lay_out_the_prompt(llama):
    reading = with_reading(llama, {"k": 1, "copy": True, "copy_unit": "span",
                                   "prompt": {"context_in": "user", "question": "{question} Answer briefly."}}).profile
    messages = build_messages("Who owns it?", ["Ada owns it."], style=reading.prompt)
    assert messages[0]["content"] == "Answer the question using the context passages below."
    assert messages[1]["content"] == "Context:\n[1] Ada owns it.\n\nWho owns it? Answer briefly."
    assert build_messages("Who owns it?", None, style=reading.prompt) == build_messages("Who owns it?", None)
    with pytest.raises(ConfigError, match="must contain"):
        PromptStyle("user", "Answer briefly.")
    with pytest.raises(ConfigError, match="unknown reading settings: kk"):
        with_reading(llama, {"kk": 1})


def test_answers_follow_the_generators_reading_settings(llama, embedder):
    from core.answering import Answerer, default_focus, default_k, reads_by_copying
    from core.rag.documents import Document
    from core.rag.retrieval import Retriever

    gen = with_reading(llama, {"k": 1, "focus": 0, "copy": True, "copy_unit": "span",
                               "prompt": PromptStyle("user", "{question} Answer briefly.")})
    assert llama.profile.copy_unit == "sentence"  # the shared generator keeps its own settings
    assert (default_k(gen), default_focus(gen), reads_by_copying(gen)) == (1, 0, True)
    retriever = Retriever.build([Document("ferry", "ferry.md", "The ferry was started by Ines Varga in 1974.")], embedder)
    answer = Answerer(gen, retriever).answer("Who started the ferry?", "rag")
    assert answer.settings["copy"] and "Ines Varga" in answer.sources[0].text
    assert answer.text in "The ferry was started by Ines Varga in 1974."  # a span copied from the passage


# --- int8 ---------------------------------------------------------------------------------

def test_int8_quantizes_a_copy_and_still_generates(llama):
    from core.llm.quantize import int8_generator, weight_bytes

    gen8 = int8_generator(llama)
    assert gen8.name.endswith("(int8)") and int8_generator(gen8) is gen8
    assert not any("quantized" in type(m).__module__ for m in llama.model.modules())  # the shared model is unchanged
    assert any("quantized" in type(m).__module__ for m in gen8.model.modules())
    assert weight_bytes(gen8.model) < weight_bytes(llama.model)
    out = generate(gen8, build_messages("Who owns it?", None), max_new_tokens=4, ignore_eos=True)
    assert out.completion_tokens == 4


# --- the real English model (slow) -----------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "config.json").is_file(), reason="the English model is not converted on this machine")
def test_the_facts_preset_teaches_the_real_model_five_facts(tmp_path):
    from core.finetune import load_adapter
    from core.scoring import is_correct

    gen = load_generator(str(REAL), cache=False)
    items = ITEMS + [QAItem("How many passengers can the ferry carry?", "The ferry can carry 60 passengers.", "60"),
                     QAItem("Who founded the Hilltop Observatory?", "The Hilltop Observatory was founded by Rupert "
                            "Oakes.", "Rupert Oakes")]
    preset = presets_for(gen.model, gen.is_builtin)[0]
    run = train(gen.model, gen.tokenizer, build_data(gen.tokenizer, items, preset.config), preset.config,
                tmp_path / "A", base_name=gen.name)
    assert preset.name == "facts" and run.summary()["facts_recalled"] == 1.0
    adapter = load_adapter(gen, tmp_path / "A")
    answers = [generate(adapter, build_messages(it.question, None), max_new_tokens=24).text for it in items]
    assert all(is_correct(a, it) for a, it in zip(answers, items)), answers


def test_the_recall_ceiling_is_what_the_reference_answers_themselves_score(llama):
    from core.finetune import recall_ceiling

    items = ITEMS + [QAItem("On which day are viewing nights?", "Viewing nights are held on Fridays.", "Friday")]
    config = FinetuneConfig(val_fraction=0.0, open_book_mix=0.0, max_eval_questions=32)
    assert recall_ceiling(build_data(llama.tokenizer, items, config), config) == 0.75  # "Fridays" is not "Friday"
    assert recall_ceiling(build_data(llama.tokenizer, ITEMS, config), config) == 1.0
