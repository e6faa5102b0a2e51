"""Failure labels: the rule on worked examples, each label forced on a world corpus with the built-in tiny LM, the
labels moving as the knob that addresses them turns, and every eval --json row agreeing with its own texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.answering import Answerer, Decoding, TrainingExamples
from core.evaluation import evaluate, rows_to_csv, specs_for
from core.failures import FAILURES, LABELS, Failure, count_labels, flows, holds, label_failure
from core.knobs import knobs_for, rerun, training_config
from core.rag.corpora import QAItem, load_qa
from core.scoring import is_correct

ARCADE = Path("sample_data/world_arcade")
NOWHERE = QAItem("What is the serial number of the Wilarmore Blender?", "Its serial number is ZX-9041-Q.", "ZX-9041-Q",
                 document="wilarmore-blender.md")


@pytest.mark.parametrize("answer, reads, retrieved, in_prompt, documents, trained, label", [
    ("It costs $70.35.", True, [], [], ["x"], None, "none"),
    ("It costs $70.", True, ["costs $70.35"], ["costs $70.35"], ["costs $70.35"], None, "in_prompt_unused"),
    ("It costs $70.", True, ["costs $70.35"], ["It ships fast."], ["costs $70.35"], None, "cut_from_prompt"),
    ("It costs $70.", True, ["It ships fast."], ["It ships fast."], ["costs $70.35"], None, "not_retrieved"),
    ("It costs $70.", True, ["It ships fast."], ["It ships fast."], ["It ships fast."], None, "not_in_corpus"),
    ("It costs $70.", True, ["It ships fast."], [], None, None, "not_retrieved"),  # no corpus known: retrieval missed
    ("It costs $70.", False, [], [], ["costs $70.35"], None, "not_learned"),  # base
    ("It costs $70.", False, [], [], ["costs $70.35"], True, "not_learned"),  # LoRA, trained on it
    ("It costs $70.35.", False, [], [], [], False, "none"),  # right is right, whatever the source
])
def test_the_rule(answer, reads, retrieved, in_prompt, documents, trained, label):
    found = label_failure("$70.35", answer, reads_passages=reads, documents=documents, retrieved=retrieved,
                          in_prompt=in_prompt, trained=trained)
    assert found.label == label and found.label in LABELS


def test_value_matching_is_the_scoring_rule():
    assert holds(["It costs $70.350.", "It COSTS\n$70.35."], "$70.35") == [1]  # whole values, normalised
    assert label_failure("12", "in 2012", reads_passages=True, documents=["aged 12"], retrieved=["in 2012"],
                         in_prompt=["in 2012"]).label == "not_retrieved"


def test_closed_book_details_and_bad_label():
    assert label_failure("x", "y", reads_passages=False).detail.startswith("not in the training set")
    assert label_failure("x", "y", reads_passages=False, trained=True).detail.startswith("trained, not recalled")
    with pytest.raises(ValueError, match="label must be one of none, not_in_corpus"):
        Failure("wrong", "")


def test_counts_and_flows():
    rows = [{"item": 0, "variant": "original", "question": "q", "system": "base", "failure": "not_learned"},
            {"item": 0, "variant": "original", "question": "q", "system": "rag", "failure": "none"},
            {"item": 1, "variant": "original", "question": "p", "system": "base", "failure": "not_learned"},
            {"item": 1, "variant": "original", "question": "p", "system": "rag", "failure": "cut_from_prompt"}]
    assert count_labels(rows)["not_learned"] == 2 and list(count_labels(rows)) == list(LABELS)
    assert flows(rows, "base", "rag") == {("not_learned", "none"): 1, ("not_learned", "cut_from_prompt"): 1}


def test_every_failure_names_its_knobs():
    assert [k.name for k in knobs_for("not_retrieved")] == ["mode", "rerank", "chunk_size", "k"]
    assert {k.name for k in knobs_for("not_learned")} == {"steps", "paraphrases", "open_book_mix"}
    assert all(knobs_for(label) for label in FAILURES if label != "not_in_corpus")


# --- each label forced on a world corpus with the built-in tiny LM ------------------------------------------

@pytest.fixture(scope="module")
def arcade():
    from core.rag.documents import load_paths

    return load_paths([ARCADE / "docs"]), load_qa(ARCADE / "qa.jsonl")[:8]


def _answerer(generator, embedder, docs, size=192, **kwargs) -> Answerer:
    from core.rag.chunking import ChunkConfig
    from core.rag.retrieval import Retriever

    retriever = Retriever.build(docs, embedder, ChunkConfig(size=size, overlap=0 if size < 192 else 38))
    return Answerer(generator, retriever, documents=docs, **kwargs)


def _labels(answerer, qa, system="rag", decoding=Decoding(max_new_tokens=24)) -> dict[str, int]:
    result = evaluate(specs_for(answerer, [system]), qa, decoding=decoding)
    for row in result.rows:
        assert_consistent(row)
    return result.systems[system]["failures"]


def test_a_small_chunk_misses_and_a_larger_one_finds(generator, embedder, arcade):
    docs, qa = arcade
    small = _labels(_answerer(generator, embedder, docs, size=32), qa)
    large = _labels(_answerer(generator, embedder, docs, size=256), qa)
    assert small["not_retrieved"] > 0 and large["not_retrieved"] < small["not_retrieved"]


def test_sentence_focus_cuts_and_turning_it_off_restores(generator, embedder, arcade):
    docs, qa = arcade
    focused = _labels(_answerer(generator, embedder, docs, focus=1), qa)
    whole = _labels(_answerer(generator, embedder, docs, focus=0), qa)
    assert focused["cut_from_prompt"] > 0 and whole["cut_from_prompt"] == 0


def test_the_long_context_window_cuts(generator, embedder, arcade):
    docs, qa = arcade
    labels = _labels(_answerer(generator, embedder, docs), qa, "long-context")
    assert labels["cut_from_prompt"] > 0  # the arcade corpus is longer than the tiny LM's 1,024-token window


def test_a_value_nowhere_is_not_in_corpus(generator, embedder, arcade):
    docs, _ = arcade
    answerer = _answerer(generator, embedder, docs)
    result = evaluate(specs_for(answerer, ["base", "rag", "long-context"]), [NOWHERE], decoding=Decoding(max_new_tokens=24))
    assert {r["system"]: r["failure"] for r in result.rows} == {"base": "not_learned", "rag": "not_in_corpus",
                                                                "long-context": "not_in_corpus"}


def test_a_wrong_adapter_has_not_learned(generator, embedder, adapter, arcade):
    docs, qa = arcade
    other = load_qa("sample_data/world_greenhouse/qa.jsonl")  # trained on another world
    for training, detail in ((other, "not in the training set"), (qa, "trained, not recalled")):
        answerer = _answerer(generator, embedder, docs, adapter=adapter, training=TrainingExamples.build(embedder, training))
        rows = evaluate(specs_for(answerer, ["lora"]), qa[:3], decoding=Decoding(max_new_tokens=24)).rows
        wrong = [r for r in rows if not r["correct"]]
        assert wrong and all(r["failure"] == "not_learned" and r["detail"].startswith(detail) for r in wrong)


def test_rerun_with_the_knob_turned_moves_the_label(generator, embedder, arcade):
    docs, qa = arcade
    answerer = _answerer(generator, embedder, docs, focus=1)
    cut = [r for r in evaluate(specs_for(answerer, ["rag"]), qa, decoding=Decoding(max_new_tokens=24)).rows
           if r["failure"] == "cut_from_prompt"]
    assert cut
    after = rerun(answerer, qa[cut[0]["item"]], "rag", Decoding(max_new_tokens=24), "focus", "cut_from_prompt")
    assert after["change"] == "sentence focus 1 → off" and after["failure"] != "cut_from_prompt"
    assert answerer.focus == 1  # the given answerer is not changed


def test_training_knobs_give_a_config():
    from core.finetune import FinetuneConfig

    assert training_config("steps", FinetuneConfig(epochs=10)).epochs == 20
    assert training_config("paraphrases", FinetuneConfig()).paraphrases == 2


# --- every eval --json row agrees with its own texts ----------------------------------------------------------

def assert_consistent(row: dict) -> None:
    """The "done when" list, checked on one row with nothing but the row."""
    value, label = row["target"], row["failure"]
    assert label in LABELS
    assert (label == "none") == bool(row["correct"]) == is_correct(row["answer"], value)
    if row["system"] in ("base", "lora") or row["retrieved"] is None:
        assert label in ("none", "not_learned") and row["in_prompt"] is None
        return
    retrieved, prompt = [r["text"] for r in row["retrieved"]], row["in_prompt"]
    assert all({"chunk", "rank", "text"} <= set(r) for r in row["retrieved"])
    if label == "not_retrieved" or label == "not_in_corpus":
        assert not holds(retrieved, value) and not holds(prompt, value)
    if label == "cut_from_prompt":
        assert holds(retrieved, value) and not holds(prompt, value)
    if label == "in_prompt_unused":
        assert holds(prompt, value)


@pytest.mark.slow  # indexes and generates 3 systems × 6 questions: ~30 s on a busy 2-core machine
def test_eval_json_rows_agree_with_their_texts(world, capsys, tmp_path):
    from core.cli import main

    code = main(["eval", "--docs", str(world["docs"]), "--qa", str(world["qa_path"]), "--limit", "6", "--focus", "1",
                 "--max-new-tokens", "24", "--json", "--csv", str(tmp_path / "rows.csv")] + world["model_args"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and len(out["rows"]) == 18
    for row in out["rows"]:
        assert_consistent(row)
    assert out["systems"]["base"]["failures"]["not_learned"] + out["systems"]["base"]["failures"]["none"] == 6
    header = (tmp_path / "rows.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith("failure,detail,retrieved,in_prompt")


def test_csv_holds_the_texts_as_json():
    row = {"item": 0, "system": "rag", "failure": "cut_from_prompt", "detail": "d",
           "retrieved": [{"chunk": "a.md[0:5]", "rank": 1, "text": "x, y"}], "in_prompt": ["z"]}
    import csv
    import io

    back = next(csv.DictReader(io.StringIO(rows_to_csv([row]))))
    assert json.loads(back["retrieved"])[0]["chunk"] == "a.md[0:5]" and json.loads(back["in_prompt"]) == ["z"]
