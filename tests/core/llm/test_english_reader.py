"""The built-in English reader: loading, prompt format, model choice by corpus, spelling, held-out set, bars."""

from __future__ import annotations

import argparse
import json

import pytest

from core.llm.choice import choose_model
from core.llm.profiles import REPO_MODELS, load_profile
from core.rag.corpora import load_qa
from tests.helpers import ROOT

READER_NAME, TINY_NAME, ENGLISH_NAME = "lab-english-reader", "lab-tiny-lm", "smollm2-135m-instruct"
READER_PATH = REPO_MODELS / READER_NAME

HELD_OUT = ROOT / "sample_data" / "heldout_prose"
PROSE = ROOT / "sample_data" / "prose_flower_shop"
WORLD = ROOT / "sample_data" / "world_arcade"


@pytest.fixture(scope="module")
def reader():
    from core.llm.loading import load_generator

    return load_generator(READER_NAME)


def test_the_reader_loads_with_the_auto_classes_and_fits_100_mb():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(READER_PATH)
    tok = AutoTokenizer.from_pretrained(READER_PATH)
    assert type(model).__name__ == "LlamaForCausalLM" and tok.chat_template
    assert sum(f.stat().st_size for f in READER_PATH.iterdir()) < 100e6


def test_the_reader_is_a_builtin_model_with_the_labs_prompt_format(reader):
    from core.llm.prompting import build_messages, render

    from core.llm.loading import load_generator

    tiny = load_generator(TINY_NAME)
    assert reader.is_builtin and reader.name == READER_NAME and reader.context_window == 1024
    assert (reader.profile.copy, reader.profile.focus) == (True, 2) and not tiny.profile.copy  # from lab.json
    messages = build_messages("When does it open?", ["It opens at 9:30."])
    assert render(reader.tokenizer, messages) == render(tiny.tokenizer, messages)


def test_it_answers_a_plain_english_passage(reader):
    from core.llm.generation import generate
    from core.llm.prompting import build_messages

    passage = "The repair cafe meets in the old fire station. Entry is free, and coffee costs 2 euros a cup."
    out = generate(reader, build_messages("How much does coffee cost at the repair cafe?", [passage]))
    assert "2 euros" in out.text


@pytest.mark.parametrize("docs, name", [(WORLD / "docs", TINY_NAME), (PROSE, ENGLISH_NAME)])
def test_the_lab_picks_the_builtin_model_by_corpus(docs, name):
    choice = choose_model(docs=[docs])
    assert choice.name == name and ("world" in choice.reads) is (name == TINY_NAME)


def test_the_reader_stays_as_the_instant_tier_chosen_by_name():
    profile = load_profile(READER_NAME)
    assert profile.reads == "english" and not profile.default and "instant" in profile.chosen_because


def test_the_cli_says_which_model_reads_the_documents_and_why(capsys):
    from core.cli.common import model_for, say_choice

    name, choice = model_for(argparse.Namespace(docs=[str(WORLD / "docs")], model=None, adapter=None, json=False))
    say_choice(argparse.Namespace(json=False), choice)
    err = capsys.readouterr().err
    assert name == TINY_NAME and err.startswith(f"model: {TINY_NAME} reads the documents") and err.count("\n") == 1
    assert model_for(argparse.Namespace(docs=[str(PROSE)], model=None, adapter=None))[0] == ENGLISH_NAME
    assert model_for(argparse.Namespace(docs=[str(PROSE)], model=READER_NAME, adapter=None)) == (READER_NAME, None)


def test_the_reader_has_live_lora_defaults_for_its_own_layers(reader):
    from core.finetune import lora_target_candidates
    from core.finetune.presets import presets_for

    [preset] = presets_for(reader.model, reader.profile)
    assert preset.name == "live" and set(preset.config.target_modules) <= set(lora_target_candidates(reader.model))


def test_the_held_out_set_is_marked_and_its_values_are_in_its_documents():
    items = load_qa(HELD_OUT / "qa.jsonl")
    texts = {p.name: p.read_text() for p in (HELD_OUT / "docs").glob("*.md")}
    assert len(items) >= 30 and "HELD-OUT" in (HELD_OUT / "README.md").read_text()
    assert not (HELD_OUT / "corpus.json").exists()  # not offered as a sample corpus
    for item in items:
        assert item.value in texts[item.document] and item.extra["kind"]


def test_the_training_data_builder_refuses_held_out_sentences():
    from recipes import reader_data

    heldout = (HELD_OUT / "docs" / "library-faq.md").read_text().split("\n\n")
    docs = [[p for p in heldout if len(p) > 80 and not p.startswith("#")]]
    with pytest.raises(AssertionError, match="held-out"):
        reader_data.examples(docs, 40, seed=0)


def _read_metrics() -> dict:
    return json.loads((READER_PATH / "eval_results.json").read_text())


def _heldout_rag_accuracy(reader, embedder) -> float:
    from core.answering import Answerer
    from core.evaluation import evaluate, specs_for
    from core.rag.retrieval import Retriever
    from core.rag.documents import load_paths
    from core.rag.chunking import ChunkConfig

    retriever = Retriever.build(load_paths([HELD_OUT / "docs"]), embedder, ChunkConfig())
    result = evaluate(specs_for(Answerer(reader, retriever), ["rag"]), load_qa(HELD_OUT / "qa.jsonl"))
    return result.systems["rag"]["accuracy"]


@pytest.mark.slow
def test_reading_on_the_held_out_prose_does_not_fall_below_the_measured_score(reader, embedder):
    assert _heldout_rag_accuracy(reader, embedder) >= _read_metrics()["heldout"]["rag"] - 0.06  # 2 of 36 slack


@pytest.mark.slow
def test_reading_bar_on_the_held_out_prose(reader, embedder):
    """The reading bar through the Lab's defaults for the reader (sentence focus 2, copy decoding)."""
    assert _heldout_rag_accuracy(reader, embedder) >= 0.6


@pytest.mark.slow
def test_lora_bar_20_plain_english_facts_within_120_s(reader, tmp_path):
    """The reader's live defaults learn 20 prose Q&A pairs closed-book (>= 80%) within 120 s of training."""
    import dataclasses

    from core.finetune import train
    from core.finetune.data import build_data, read_documents
    from core.finetune.presets import presets_for

    config = dataclasses.replace(presets_for(reader.model, reader.profile)[0].config, max_facts=20)
    data = build_data(reader.tokenizer, load_qa(PROSE / "qa.jsonl"), config, read_documents([str(PROSE)]))
    result = train(reader.model, reader.tokenizer, data, config, tmp_path, base_name=READER_NAME).summary()
    assert result["facts_recalled"] >= 0.8  # its time is in bench/bench_finetune.py


@pytest.mark.slow
def test_speed_bar_50_new_tokens_per_second(reader):
    from core.llm.generation import generate

    text = (HELD_OUT / "docs" / "campsite-guide.md").read_text() * 2
    prompt = reader.tokenizer.decode(reader.tokenizer(text, add_special_tokens=False)["input_ids"][:300])
    assert 290 <= len(reader.tokenizer(prompt)["input_ids"]) <= 310
    best = max(generate(reader, prompt, max_new_tokens=64, ignore_eos=True).tokens_per_s for _ in range(3))
    assert best >= 50
