"""An adapter carries its base model: it loads only on that base, the CLI loads that base for it, and the app never
lists it under another model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import AdapterError
from core.finetune import adapter_base, adapter_fits, base_fingerprint, list_adapters, load_adapter
from tests.helpers import ROOT
from tests.helpers import ANSWERS, FINETUNE, in_process, save_untrained_adapter, start

WORLD_DOCS = ROOT / "sample_data" / "world_arcade" / "docs"
PROSE_DOCS = ROOT / "sample_data" / "prose_flower_shop"
QUESTION = "How much is the Wilarmore Blender?"


@pytest.fixture(scope="module")
def tiny():
    from core.llm.loading import load_generator

    return load_generator("lab-tiny-lm")


@pytest.fixture(scope="module")
def reader():
    from core.llm.loading import load_generator

    return load_generator("lab-english-reader")


def adapter_for(gen, folder: Path) -> Path:
    """An untrained adapter of ``gen`` whose metrics.json records the base as training does."""
    save_untrained_adapter(gen, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    (folder / "metrics.json").write_text(json.dumps({**metrics, "base": base_fingerprint(gen.model, gen.name)}))
    return folder


def test_the_fingerprint_tells_models_with_one_architecture_apart(tiny, reader):
    a, b = base_fingerprint(tiny.model, tiny.name), base_fingerprint(reader.model, reader.name)
    assert a["config_sha"] == b["config_sha"] and a["weights_sha"] != b["weights_sha"]
    assert base_fingerprint(tiny.model)["weights_sha"] == a["weights_sha"]  # stable


def test_an_adapter_loads_on_its_base_and_nowhere_else(tiny, reader, tmp_path):
    folder = adapter_for(tiny, tmp_path / "a")
    assert adapter_base(folder)["name"] == "lab-tiny-lm"
    assert load_adapter(tiny, folder).name == "lab-tiny-lm+a"
    with pytest.raises(AdapterError, match="trained on lab-tiny-lm, not on lab-english-reader"):
        load_adapter(reader, folder)
    [info] = list_adapters(tmp_path)
    assert adapter_fits(info, tiny) and not adapter_fits(info, reader)


def test_training_records_the_base(tiny, tmp_path):
    from core.finetune import FinetuneConfig, train
    from core.finetune.data import build_data
    from core.rag.corpora import load_qa

    config = FinetuneConfig(max_steps=1, eval_every=1000, max_eval_questions=1, val_fraction=0, open_book_mix=0)
    items = load_qa(ROOT / "sample_data" / "world_arcade" / "qa.jsonl")[:2]
    train(tiny.model, tiny.tokenizer, build_data(tiny.tokenizer, items, config, {}), config, tmp_path / "r",
          base_name=tiny.name)
    assert adapter_base(tmp_path / "r") == base_fingerprint(tiny.model, tiny.name)


def test_the_cli_loads_the_adapters_base_and_refuses_another(tiny, tmp_path, capsys):
    folder = adapter_for(tiny, tmp_path / "a")
    # prose documents would pick the English model, but the adapter's base (the tiny LM) answers
    out = in_process(capsys, "ask", "--docs", str(PROSE_DOCS), "--question", QUESTION, "--system", "lora",
                     "--adapter", str(folder), "--json")
    row = json.loads(out.stdout)
    assert row["model_choice"]["name"] == "lab-tiny-lm" and "adapter" in row["model_choice"]["why"]
    wrong = in_process(capsys, "ask", "--docs", str(WORLD_DOCS), "--question", QUESTION, "--system", "lora",
                       "--adapter", str(folder), "--model", "lab-english-reader", check=False)
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.count("\n") == 1 and "trained on lab-tiny-lm, not on lab-english-reader" in wrong.stderr


def test_the_app_lists_only_adapters_of_the_current_model(tiny, reader):
    from tests.helpers import session_adapters

    adapter_for(tiny, session_adapters() / "tiny-run")
    adapter_for(reader, session_adapters() / "reader-run")
    at = start("answerstest", ANSWERS)  # world_arcade: the tiny LM reads it
    assert [o.split(" ")[0] for o in at.selectbox(key="ans_adapter").options] == ["tiny-run"]
    at = start("answerstest", FINETUNE, generator_name="lab-english-reader")
    shown = " ".join(m.value for m in at.markdown)
    assert "`reader-run`" in shown and "`tiny-run`" not in shown
    assert any("trained on lab-tiny-lm are not listed" in c.value for c in at.caption)
