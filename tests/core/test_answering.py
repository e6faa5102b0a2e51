"""The systems with the real built-in model on a world corpus (the shared fixtures are in ``conftest.py``)."""

from __future__ import annotations

import json

import pytest

from core.answering import (
    SYSTEMS, Answerer, Decoding, default_k, training_items,
)
from core.llm.plan import fit_contexts
from core.errors import ConfigError
from core.llm.prompting import build_messages
from tests.helpers import save_untrained_adapter

# --- tests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"max_new_tokens": 0}, "max_new_tokens must be between 1 and 512"),
    ({"temperature": -1}, "temperature must be between 0 and 5"),
    ({"top_k": -1}, "top_k must be 0"),
    ({"top_p": 0}, "top_p must be greater than 0"),
])
def test_decoding_validates(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Decoding(**kwargs)


def test_every_system_answers_with_its_sources(answerer, world):
    item = world["qa"][0]
    streamed: dict[str, str] = {}
    answers = answerer.answer_all(item.question, decoding=Decoding(max_new_tokens=32),
                                  on_token=lambda s, piece: streamed.__setitem__(s, streamed.get(s, "") + piece))
    by = {a.system: a for a in answers}
    assert list(by) == list(SYSTEMS)
    for a in answers:
        assert streamed.get(a.system, "").strip() == a.text  # the streamed pieces make up the answer
        assert a.settings["max_new_tokens"] == 32 and a.settings["temperature"] == 0.0
        assert a.latency_s > 0 and 0 < a.completion_tokens <= 32
        assert set(a.to_dict()) >= {"system", "answer", "sources", "prompt_tokens", "completion_tokens", "latency_s"}
    assert by["base"].sources == [] and "+" not in by["base"].model
    for system in ("rag", "lora+rag"):
        chunks = by[system].sources
        assert [s.rank for s in chunks] == list(range(1, len(chunks) + 1)) and chunks
        assert all(s.kind == "chunk" and s.document.endswith(".md") and s.end > s.start for s in chunks)
    assert [s.to_dict() for s in by["rag"].sources] == [s.to_dict() for s in by["lora+rag"].sources]  # one search
    assert by["rag"].prompt_tokens > by["base"].prompt_tokens + 50
    lora = by["lora"].sources
    assert lora[0].kind == "training_example" and lora[0].index == 0  # the question's own training row is closest
    assert "+" in by["lora"].model  # the adapter model answered


def test_rag_reads_the_retrieved_fact(answerer, world, model_name):
    if model_name:
        pytest.skip("only the built-in model is trained to read world passages")
    items = world["qa"][:5]
    answers = [answerer.answer(it.question, "rag", Decoding(max_new_tokens=32)) for it in items]
    assert all(any(it.target in s.text for s in a.sources) for it, a in zip(items, answers))  # retrieval found it
    read = sum(it.target.lower() in a.text.lower() for it, a in zip(items, answers))
    assert read >= 4, [a.text for a in answers]  # see models/lab-tiny-lm/MODEL_CARD.md


def test_missing_adapter_is_explained(generator, retriever):
    answerer = Answerer(generator, retriever)
    assert answerer.available() == ["base", "rag"]
    with pytest.raises(ConfigError, match="no LoRA adapter is loaded"):
        answerer.answer("Who?", "lora")
    with pytest.raises(ConfigError, match="unknown system"):
        answerer.answer("Who?", "rag+")


def test_fit_contexts_drops_the_lowest_ranked_passages(generator):
    passages = ["word " * 200, "other " * 200, "third " * 200]
    from core.llm.generation import count_tokens

    one = count_tokens(generator, build_messages("Q?", passages[:1]))
    assert fit_contexts(generator, "Q?", passages, one + 5) == passages[:1]
    assert fit_contexts(generator, "Q?", passages, 10) == passages[:1]  # at least one is kept
    assert fit_contexts(generator, "Q?", passages, 10**6) == passages


def test_training_items_from_the_adapter_folder_or_fallback(tmp_path, world):
    (tmp_path / "train_qa.jsonl").write_text(json.dumps({"question": "Q?", "answer": "A."}) + "\n")
    assert [it.question for it in training_items(tmp_path, world["qa"])] == ["Q?"]
    assert training_items(tmp_path / "missing", world["qa"][:2]) == world["qa"][:2]


def test_ask_cli_all_systems_json(world, tmp_path, generator, capsys):
    from core.cli import main

    adapter_dir = save_untrained_adapter(generator, tmp_path / "ad")
    code = main(["ask", "--docs", str(world["docs"]), "--question", world["qa"][0].question, "--system", "all",
                 "--adapter", str(adapter_dir), "--qa", str(world["qa_path"]), "--max-new-tokens", "16", "--json"]
                + world["model_args"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and [a["system"] for a in out] == list(SYSTEMS)
    assert out[1]["sources"][0]["document"].endswith(".md") and out[2]["sources"][0]["kind"] == "training_example"
    assert len(out[1]["sources"]) == default_k(generator)  # -k left out: the model's own default


def test_default_k_one_chunk_for_the_built_in_model(generator, model_name):
    from types import SimpleNamespace

    from core.llm.profiles import ModelProfile, load_profile

    assert default_k(SimpleNamespace(profile=load_profile("lab-tiny-lm"))) == 1  # the profile's k, not a name check
    assert default_k(SimpleNamespace(profile=ModelProfile())) == 3 and default_k(SimpleNamespace()) == 3
    assert Answerer(generator).k == default_k(generator) == (3 if model_name else 1)
    assert Answerer(generator, k=5).k == 5


def test_ask_cli_questions_file_and_missing_adapter(world, tmp_path, capsys):
    from core.cli import main

    questions = tmp_path / "q.txt"
    questions.write_text("\n".join(it.question for it in world["qa"][:2]) + "\n")
    code = main(["ask", "--docs", str(world["docs"]), "--questions-file", str(questions), "--system", "base",
                 "--max-new-tokens", "8", "--json"] + world["model_args"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and [a["system"] for a in out] == ["base", "base"] and out[0]["sources"] == []
    code = main(["ask", "--docs", str(world["docs"]), "--question", "Who?", "--system", "lora"] + world["model_args"])
    assert code == 2 and "needs --adapter" in capsys.readouterr().err
