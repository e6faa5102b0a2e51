"""Fine-tuning core: config validation, parameter counts, a real short run, adapter I/O, data errors, CLI.

Models are tiny random LlamaForCausalLMs built in tmp folders with the built-in
model's tokenizer, so the whole file runs in well under a minute on 2 CPU cores.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import zipfile

import pytest
import torch

from core.rag.corpora import QAItem
from core.errors import AdapterError, ConfigError, DatasetError
from core.finetune import (
    FinetuneConfig, export_adapter_zip, list_adapters, load_adapter, lora_target_candidates,
    parameter_report, train,
)
from core.finetune.data import IGNORE, build_data, qa_example, read_qa_upload
from core.finetune.evaluate import greedy_answers
from core.llm.prompting import build_messages
from tests.helpers import tiny_model_dir

ITEMS = [
    QAItem("Who owns Elmby Blooms?", "Ada Vance owns Elmby Blooms.", "Ada Vance", ("Who is the owner of Elmby Blooms?",),
           "Elmby Blooms is owned by Ada Vance."),
    QAItem("What does Zone A delivery cost?", "Zone A delivery costs $6.50.", "$6.50", ("Price of Zone A delivery?",),
           "Zone A: $6.50 per delivery."),
    QAItem("When does the shop open?", "The shop opens at 8am.", "8am", (), "We open at 8am every day."),
    QAItem("Which river runs by Millbrook?", "The Fenn runs by Millbrook.", "Fenn", (), "Millbrook sits on the Fenn."),
]
TINY = FinetuneConfig(rank=4, alpha=8, target_modules=("q_proj", "v_proj"), learning_rate=1e-2, max_steps=6,
                      batch_size=8, eval_every=3, val_fraction=0.25, max_new_tokens=6, open_book_mix=0.5)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model_dir(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture(scope="module")
def base(model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from core.llm.loading import Generator

    model = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
    return Generator(model, AutoTokenizer.from_pretrained(str(model_dir)), "tiny-test", is_builtin=False,
                     n_params=sum(p.numel() for p in model.parameters()), context_window=512)


@pytest.fixture(scope="module")
def trained(base, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "run1"
    before = copy.deepcopy(base.model.state_dict())
    data = build_data(base.tokenizer, ITEMS, TINY)
    run = train(base.model, base.tokenizer, data, TINY, out, base_name=base.name, general_items=ITEMS[:1])
    return run, out, before


@pytest.mark.parametrize("kwargs, message", [
    ({"rank": 0}, "rank must be between 1 and 256 (got 0); 4 to 32 is typical"),
    ({"rank": 4096}, "rank must be between 1 and 256 (got 4096); 4 to 32 is typical"),
    ({"learning_rate": 0}, "learning_rate must be greater than 0 and at most 1 (got 0); try 1e-4 to 1e-2"),
    ({"learning_rate": 10}, "learning_rate must be greater than 0 and at most 1 (got 10); try 1e-4 to 1e-2"),
    ({"method": "qlora"}, "method must be one of lora, full (got 'qlora')"),
    ({"data": "pdf"}, "data must be one of qa, text (got 'pdf')"),
    ({"open_book_mix": 1.5}, "open_book_mix must be between 0 and 1 (got 1.5)"),
    ({"val_fraction": 1.0}, "val_fraction must be at least 0 and below 1 (got 1.0)"),
])
def test_config_validation_messages(kwargs, message):
    with pytest.raises(ConfigError) as err:
        FinetuneConfig(**kwargs)
    assert str(err.value) == message
    assert isinstance(err.value, ValueError)


def test_config_json_round_trip():
    cfg = FinetuneConfig(rank=8, target_modules=["q_proj"])
    again = FinetuneConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and again.target_modules == ("q_proj",)


@pytest.mark.parametrize("rank, targets", [(1, ("q_proj",)), (8, ("q_proj", "v_proj")),
                                           (16, ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"))])
def test_parameter_report_equals_peft(base, rank, targets):
    from peft import LoraConfig, get_peft_model

    report = parameter_report(base.model, FinetuneConfig(rank=rank, target_modules=targets))
    peft_model = get_peft_model(copy.deepcopy(base.model), LoraConfig(r=rank, target_modules=list(targets)))
    trainable, total = peft_model.get_nb_trainable_parameters()
    assert (report.trainable, report.total) == (trainable, total)
    assert report.adapter_mb == pytest.approx(trainable * 4 / 1e6, abs=1e-3)


def test_target_candidates_and_unknown_target(base):
    assert lora_target_candidates(base.model) == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]
    with pytest.raises(ConfigError, match="not in this model; choose from down_proj"):
        parameter_report(base.model, FinetuneConfig(target_modules=("c_attn",)))


def test_full_report_counts_every_weight(base):
    report = parameter_report(base.model, FinetuneConfig(method="full"))
    assert report.trainable == report.total == sum(p.numel() for p in base.model.parameters())


def test_qa_example_masks_the_prompt(base):
    ex = qa_example(base.tokenizer, "Who owns Elmby Blooms?", "Ada Vance.")
    answer = [t for t in ex.labels if t != IGNORE]
    assert answer[-1] == base.tokenizer.eos_token_id
    assert base.tokenizer.decode(answer[:-1]).strip() == "Ada Vance."
    prompt = base.tokenizer.decode(ex.input_ids[: len(ex.input_ids) - len(answer)])
    assert "Who owns Elmby Blooms?" in prompt and prompt.rstrip().endswith("<|assistant|>")


def test_build_data_mixes_paraphrases_and_open_book(base):
    cfg = dataclasses.replace(TINY, paraphrases=1, open_book_mix=1.0, val_fraction=0.0)
    data = build_data(base.tokenizer, ITEMS, cfg)
    assert data.counts() == {"qa": 4, "paraphrase": 2, "open_book": 4}
    assert all(ITEMS[0].supporting_text in " ".join(ctx) or q != ITEMS[0].question for q, ctx in data.passages.items())


def test_table_rows_skip_blanks_and_nan():
    from core.finetune.data import items_from_rows

    rows = [{"question": "Who?", "answer": "Ada.", "value": float("nan")}, {"question": "", "answer": "x"},
            {"question": None, "answer": None, "value": None}]
    assert items_from_rows(rows) == [QAItem("Who?", "Ada.", "")]
    with pytest.raises(DatasetError, match="no row with both"):
        items_from_rows(rows[1:])


@pytest.mark.parametrize("name, data", [
    ("qa.csv", b"question,reply\nWho?,Me\n"),
    ("qa.jsonl", b'{"q": "Who?", "answer": "Me"}\n'),
    ("qa.csv", b""),
])
def test_bad_qa_files_raise_dataset_error(name, data):
    with pytest.raises(DatasetError):
        read_qa_upload(name, data)


def test_training_loss_falls_and_files_appear(trained):
    run, out, _ = trained
    assert run.status == "done" and len(run.steps) == TINY.max_steps
    assert run.steps[-1]["loss"] < run.steps[0]["loss"]
    assert [e["step"] for e in run.evals] == [0, 3, 6]
    assert {"facts_recalled", "open_book_accuracy", "eval_loss", "general_recalled"} <= set(run.evals[-1])
    for name in ("adapter_model.safetensors", "adapter_config.json", "metrics.json"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "done" and metrics["config"]["rank"] == 4 and len(metrics["steps"]) == 6
    assert metrics["summary"]["trainable_params"] == run.params.trainable


def test_base_model_unchanged_by_training(trained, base):
    _, _, before = trained
    after = base.model.state_dict()
    assert not hasattr(base.model, "peft_config")
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_save_load_round_trip_generates_identically(trained, base):
    run, out, _ = trained
    loaded = load_adapter(base, out)
    messages = [build_messages(it.question, None) for it in ITEMS]
    assert greedy_answers(loaded.model, base.tokenizer, messages, 8) == greedy_answers(run.model, base.tokenizer, messages, 8)
    assert loaded.name == f"tiny-test+{out.name}" and base.model is not loaded.model
    assert [a.name for a in list_adapters(out.parent)] == [out.name]
    names = zipfile.ZipFile(__import__("io").BytesIO(export_adapter_zip(out))).namelist()
    assert f"{out.name}/adapter_model.safetensors" in names


def test_stop_ends_the_run_cleanly(base, tmp_path):
    data = build_data(base.tokenizer, ITEMS, TINY)
    run = train(base.model, base.tokenizer, data, TINY, tmp_path / "r", should_stop=lambda: True)
    assert run.status == "stopped" and run.steps == []
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["status"] == "stopped"


@pytest.mark.parametrize("setup", ["missing", "empty", "garbage"])
def test_corrupt_adapter_folder_raises_adapter_error(base, tmp_path, setup):
    folder = tmp_path / "bad"
    if setup != "missing":
        folder.mkdir()
    if setup == "garbage":
        (folder / "adapter_config.json").write_text("{not json")
        (folder / "adapter_model.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(AdapterError):
        load_adapter(base, folder)


def test_cli_finetune_json(model_dir, tmp_path, capsys):
    from core.cli import main

    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps({"question": it.question, "answer": it.answer, "value": it.value}) for it in ITEMS))
    code = main(["finetune", "--qa", str(qa), "--out", str(tmp_path / "out"), "--steps", "2", "--rank", "2",
                 "--lr", "0.01", "--eval-every", "2", "--model", str(model_dir), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"final_train_loss", "final_eval_loss", "facts_recalled", "seconds", "trainable_params"} <= set(summary)
    assert summary["steps"] == 2 and (tmp_path / "out" / "adapter_config.json").is_file()
    # without RAGFT_RAY_ADDRESS the job runs here, in this process
    assert (summary["runner"], summary["worker_pid"]) == ("local", os.getpid())
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["runner"] == "local"
