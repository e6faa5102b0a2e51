"""The lessons with the real built-in model on a world corpus: confidence, attribution,
long context and editing a fact in the weights."""

from __future__ import annotations

import json

import pytest

from core.answering import Answerer
from core.llm.plan import long_context_passages, plan_prompt
from core.llm.attribution import attribute
from core.llm.confidence import reference_frame, token_probabilities, value_probability
from core.rag.corpora import list_corpora, load_qa
from core.rag.documents import load_paths
from core.errors import ConfigError
from core.llm.prompting import build_messages


@pytest.fixture(scope="module")
def gen():
    from core.llm.loading import load_generator

    return load_generator()


@pytest.fixture(scope="module")
def world():
    corpus = next(c for c in list_corpora() if c.name == "world_arcade")
    qa = load_qa(corpus.qa_path)
    docs = load_paths([corpus.docs_path])
    item = qa[0]
    passage = next(d.text for d in docs if d.name == item.document)
    return {"corpus": corpus, "qa": qa, "docs": docs, "item": item, "passage": passage}


def test_the_passage_moves_probability_onto_the_right_value(gen, world):
    item = world["item"]
    closed = value_probability(gen, build_messages(item.question, None), item.answer, item.value)
    open_book = value_probability(gen, build_messages(item.question, [world["passage"]]), item.answer, item.value)
    assert closed.found and open_book.found
    assert closed.prob < 0.05 < 0.5 < open_book.prob  # held-out entity: closed book it cannot know the price
    assert "".join(t.text for t in open_book.tokens).strip() == item.value


def test_token_probabilities_cover_the_answer_and_are_probabilities(gen, world):
    answer = "The Wilarmore Blender costs $70.35."
    scores = token_probabilities(gen, build_messages(world["item"].question, [world["passage"]]), answer)
    assert "".join(answer[t.start:t.end] for t in scores).replace(" ", "") == answer.replace(" ", "")
    assert all(0.0 < t.prob <= 1.0 for t in scores)
    assert value_probability(gen, build_messages("Q?", None), "no value here", "$1.00").value == "$1.00"
    with pytest.raises(ConfigError):
        value_probability(gen, build_messages("Q?", None), "x", " ")


def test_reference_frame_prefers_the_qa_row_then_an_answer_with_the_value(world):
    from types import SimpleNamespace

    item = world["item"]
    assert reference_frame(item.paraphrases[0], [], world["qa"]) == (item.value, item.answer)
    answers = [SimpleNamespace(text="It costs $9."), SimpleNamespace(text="The price is $70.35 today.")]
    assert reference_frame("unknown?", answers, [], "$70.35") == ("$70.35", "The price is $70.35 today.")
    assert reference_frame("unknown?", answers) == (None, None)


def test_attribution_points_at_the_copied_value(gen, world):
    item, passage = world["item"], world["passage"]
    att = attribute(gen, plan_prompt(gen, item.question, [passage]), item.answer)
    assert len(att.passages) == 1 and 0 < att.in_context <= 1
    value_at = passage.index(item.value.split(".")[0].lstrip("$"))  # "70" of "$70.35"
    strongest = max(att.passages[0], key=lambda s: s.weight)
    assert strongest.weight == pytest.approx(1.0)
    assert strongest.start <= value_at < strongest.end + 3  # the value's first digits get the most attention
    token = next(t for t in att.tokens if t["token"].strip() == "70")
    assert token["top"][0]["start"] <= value_at < token["top"][0]["end"] + 3
    with pytest.raises(ConfigError):
        attribute(gen, plan_prompt(gen, item.question, []), item.answer)


def test_long_context_reads_documents_in_order_until_the_window_is_full(gen, world):
    fitted = long_context_passages(gen, "How much?", world["docs"], 600)
    assert fitted.names == [d.name for d in world["docs"]]
    assert all(d.text.strip().startswith(p) for p, d in zip(fitted.passages, world["docs"]))  # in order, whole or cut
    assert 0 < fitted.share < 1  # a 1,024-token model holds only part of this corpus
    from core.llm.generation import count_tokens

    assert count_tokens(gen, build_messages("How much?", fitted.passages)) <= 600
    small = long_context_passages(gen, "How much?", world["docs"][:1], 900)
    assert small.share == pytest.approx(1.0) and small.passages[0] == world["docs"][0].text.strip()


def test_long_context_is_a_fifth_system(gen, world):
    answerer = Answerer(gen, documents=world["docs"])
    assert "long-context" in answerer.available() and "rag" not in answerer.available()
    a = answerer.answer(world["qa"][0].question, "long-context")
    assert a.sources and a.sources[0].kind == "document" and 0 < a.corpus_share < 1
    assert a.prompt_tokens + 48 <= gen.context_window and a.to_dict()["corpus_share"] == round(a.corpus_share, 4)
    with pytest.raises(ConfigError, match="no documents"):
        Answerer(gen).answer("Q?", "long-context")


def test_ask_cli_long_context_and_confidence(world, capsys):
    from core.cli import main

    code = main(["ask", "--docs", str(world["corpus"].docs_path), "--question", world["item"].question,
                 "--system", "all", "--confidence", "--qa", str(world["corpus"].qa_path), "--max-new-tokens", "16",
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and [a["system"] for a in out] == ["base", "rag", "long-context"]
    by = {a["system"]: a for a in out}
    assert by["rag"]["reference"]["prob"] > 0.5 > 0.05 > by["base"]["reference"]["prob"]
    assert all(0 < t["prob"] <= 1 for t in by["base"]["tokens"]) and "corpus_share" in by["long-context"]


@pytest.mark.slow
def test_rank_one_edit_changes_the_fact_and_keeps_others(gen, world):
    from core.llm.editing import EditConfig, edit_fact_in_weights, locality_questions

    item = world["item"]
    before = [p.detach().clone() for p in gen.model.parameters()]
    r = edit_fact_in_weights(gen, item, "$99.00", others=locality_questions(world["qa"], item, 8),
                             texts=[d.text for d in world["docs"]], config=EditConfig(layers=(1,)))
    assert all((a == b).all() for a, b in zip(before, gen.model.parameters()))  # the shared model is untouched
    assert r.reliability == 1.0 and "$99.00" in r.answers["question"][0]["after"]
    assert r.locality >= 0.5 and len(r.answers["others"]) == 8
    assert set(r.to_dict()) >= {"reliability", "generality", "locality", "layer", "answers", "trials"}


def test_edit_refuses_bad_input(gen, world):
    from core.llm.editing import edit_fact_in_weights

    with pytest.raises(ConfigError):
        edit_fact_in_weights(gen, world["item"], "  ")
    with pytest.raises(ConfigError):
        edit_fact_in_weights(gen, world["item"], world["item"].value)
    no_subject = load_qa(world["corpus"].qa_path)[0].__class__("Q?", "A $1.", "$1")
    with pytest.raises(ConfigError, match="entity"):
        edit_fact_in_weights(gen, no_subject, "$2")


def test_rewrites_state_the_same_facts_in_other_words(world):
    from core.experiments import document_training_set
    from core.world import entities_from_qa, rewrite_documents

    entities = entities_from_qa(world["qa"])
    assert len(entities) == len({it.extra["entity"] for it in world["qa"]})
    rewrites = rewrite_documents(world["qa"], 2)
    assert len(rewrites) == 2 * len(entities)
    originals = {d.name: d.text for d in world["docs"]}
    for key, text in rewrites.items():
        name = key.split("#")[0]
        ent = next(e for e in entities if name.startswith(e.slug))
        assert all(value in text for value in ent.facts.values())  # every fact, once more
        assert text != originals[name]  # in other words
    assert rewrite_documents(world["qa"], 2) == rewrites  # reproducible
    both = document_training_set(world["docs"], world["qa"], 1)
    assert set(originals) < set(both) and len(both) == len(originals) + len(entities)
    from core.errors import DatasetError

    prose = next(c for c in list_corpora() if not c.builtin_model_reads)
    with pytest.raises(DatasetError, match="world corpus"):
        document_training_set(load_paths([prose.docs_path]), load_qa(prose.qa_path), 1)


@pytest.mark.slow
def test_document_training_runs_and_reports(gen, world):
    from core.experiments import document_training_sweep

    rows = document_training_sweep(gen, world["corpus"], [0, 1], max_steps=2)(lambda d, t: None, lambda: False)
    assert [r["rewrites"] for r in rows] == [0, 1] and rows[1]["train_tokens"] > 1.5 * rows[0]["train_tokens"]
    assert all(0 <= r["accuracy"] <= 1 and r["steps"] == 2 for r in rows)


def test_edit_cli_refuses_bad_input(world, capsys):
    from core.cli import main

    qa_path = str(world["corpus"].qa_path)
    assert main(["edit", "--qa", qa_path, "--question", "Nobody asks this?", "--new-value", "x"]) == 2
    assert "no row" in capsys.readouterr().err
    assert main(["edit", "--qa", qa_path, "--question", world["item"].question, "--new-value", "x",
                 "--others", "1000"]) == 2
    assert "--others" in capsys.readouterr().err


@pytest.mark.slow
def test_edit_cli_json(world, capsys):
    from core.cli import main

    item = world["item"]
    code = main(["edit", "--qa", str(world["corpus"].qa_path), "--question", item.paraphrases[0], "--new-value",
                 "$99.00", "--layer", "1", "--others", "3", "--docs", str(world["corpus"].docs_path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["layer"] == 1 and out["question"] == item.question and out["old_value"] == item.value
    assert len(out["answers"]["others"]) == 3 and len(out["trials"]) == 1
    assert out["reliability"] == 1.0 and out["locality"] > 0.8


# --- the same lessons on real architectures (random-weight folders built offline, tests/tiny_models.py) ---------

@pytest.mark.parametrize("arch", ["llama", "qwen2", "gpt2", "t5"])
def test_lessons_run_on_every_architecture(arch, tiny_models, world):
    from core.llm.editing import EditConfig, edit_fact_in_weights, locality_questions
    from core.llm.loading import load_generator

    gen = load_generator(str(tiny_models[arch]))
    item, passage = world["item"], world["passage"][:300]
    messages = build_messages(item.question, [passage])
    scores = token_probabilities(gen, messages, item.answer)
    assert scores and all(0 < t.prob <= 1 for t in scores)
    vp = value_probability(gen, messages, item.answer, item.value)
    assert vp.found and 0 < vp.prob < 1  # random weights: some probability, never certainty
    fitted = long_context_passages(gen, item.question, world["docs"], 200)
    assert fitted.passages and 0 < fitted.share < 1
    if arch == "t5":  # encoder-decoder: no decoder-only attention map or MLP key to edit, and it says so
        with pytest.raises(ConfigError, match="decoder-only"):
            attribute(gen, plan_prompt(gen, item.question, [passage]), item.answer)
        with pytest.raises(ConfigError, match="decoder-only"):
            edit_fact_in_weights(gen, item, "$99.00")
        return
    att = attribute(gen, plan_prompt(gen, item.question, [passage]), item.answer)
    assert att.passages[0] and max(s.weight for s in att.passages[0]) == pytest.approx(1.0)
    before = [p.detach().clone() for p in gen.model.parameters()]
    r = edit_fact_in_weights(gen, item, "$99.00", others=locality_questions(world["qa"], item, 2),
                             texts=[passage], config=EditConfig(steps=3, layers=(0,)), max_new_tokens=8)
    assert r.layer == 0 and 0 <= r.locality <= 1 and len(r.answers["others"]) == 2
    assert all((a == b).all() for a, b in zip(before, gen.model.parameters()))  # the shared model is untouched


@pytest.mark.slow  # answers three systems with attribution: 3 s of CPU, 12 s at load 15
def test_ask_cli_attribution(world, capsys):
    from core.cli import main

    code = main(["ask", "--docs", str(world["corpus"].docs_path), "--question", world["item"].question,
                 "--system", "all", "--attribution", "--max-new-tokens", "16", "--json"])
    out = {a["system"]: a for a in json.loads(capsys.readouterr().out)}
    assert code == 0 and out["base"]["attribution"] is None  # it read nothing
    rag = out["rag"]["attribution"]
    assert len(rag["passages"]) == len(out["rag"]["sources"]) and 0 < rag["in_context"] <= 1
    top = max(rag["passages"][0], key=lambda s: s["weight"])
    assert out["rag"]["sources"][0]["text"][top["start"]:top["end"]].strip() in world["item"].value  # "70" of "$70.35"
    assert out["long-context"]["attribution"]["passages"]  # the documents it read
