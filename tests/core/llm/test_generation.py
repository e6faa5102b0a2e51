"""Generation: the built-in model loads offline, is deterministic, reads context; error paths."""

from __future__ import annotations

import json

import pytest

from core.errors import ConfigError, ModelUnavailable
from core.llm.generation import generate
from core.llm.loading import BUILTIN_PATH, load_generator
from core.llm.prompting import DEFAULT_SYSTEM_BASE, DEFAULT_SYSTEM_RAG, build_messages
from core.world import generate_world


@pytest.fixture(scope="module")
def gen():
    return load_generator()


def test_builtin_model_folder_is_standard_and_small():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert (BUILTIN_PATH / "model.safetensors").stat().st_size <= 25 * 2**20
    cfg = json.loads((BUILTIN_PATH / "config.json").read_text())
    assert cfg["architectures"] == ["LlamaForCausalLM"]
    model = AutoModelForCausalLM.from_pretrained(BUILTIN_PATH)
    tok = AutoTokenizer.from_pretrained(BUILTIN_PATH)
    assert {"q_proj", "k_proj", "v_proj", "o_proj"} <= {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    assert tok.chat_template and tok.bos_token and tok.eos_token and tok.pad_token


def test_builtin_loads_offline_and_is_cached(gen, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert gen.is_builtin and gen.name == "lab-tiny-lm"
    assert 1e6 < gen.n_params < 10e6 and gen.context_window >= 1024
    assert load_generator() is gen and load_generator("lab-tiny-lm") is gen
    assert load_generator(cache=False) is not gen


def test_build_messages_and_chat_template_round_trip(gen):
    from recipes.tokenizer import apply_template

    msgs = build_messages("Who owns Elmby Blooms?", ["Elmby Blooms is owned by Ada Vance.", "Other text."])
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert msgs[0]["content"].startswith(DEFAULT_SYSTEM_RAG)
    assert "[1] Elmby Blooms is owned by Ada Vance.\n\n[2] Other text." in msgs[0]["content"]
    assert build_messages("Q?", None)[0]["content"] == DEFAULT_SYSTEM_BASE
    assert build_messages("Q?", [])[0]["content"] == DEFAULT_SYSTEM_BASE
    tok = gen.tokenizer
    text = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    assert text == apply_template(msgs)  # the training data is rendered by the template the tokenizer applies
    assert text.endswith("<|user|>\nWho owns Elmby Blooms?\n<|assistant|>\n")
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True)["input_ids"]
    assert tok.decode(ids) == text
    assert ids[0] == tok.bos_token_id and ids.count(tok.bos_token_id) == 1


def test_greedy_generation_is_deterministic_and_streams(gen):
    msgs = build_messages("Who owns Elmby Blooms?", ["Elmby Blooms is owned by Ada Vance."])
    pieces: list[str] = []
    a = generate(gen, msgs, max_new_tokens=24, on_token=pieces.append)
    b = generate(gen, msgs, max_new_tokens=24)
    assert a.text == b.text and a.text
    assert "".join(pieces).strip() == a.text
    assert a.prompt_tokens > 10 and 0 < a.completion_tokens <= 24 and a.latency_s > 0
    assert a.settings["greedy"] and a.settings["max_new_tokens"] == 24
    s1 = generate(gen, msgs, max_new_tokens=16, temperature=1.0, top_k=20, top_p=0.9, seed=3)
    s2 = generate(gen, msgs, max_new_tokens=16, temperature=1.0, top_k=20, top_p=0.9, seed=3)
    assert s1.text == s2.text
    cut = generate(gen, msgs, max_new_tokens=24, stop=[" by"])
    assert " by" not in cut.text


def _relevant_chunk(text: str, value: str) -> str:
    paras = [p for p in text.split("\n\n") if value in p]
    return paras[0]


def test_rag_answers_from_context_and_closed_book_does_not(gen):
    """The app gives the built-in model one chunk (core.answering.default_k); here: the paragraph with the fact."""
    world = generate_world(4242, n_entities=6)
    docs = {d.name: d.text for d in world.documents}
    rows = world.qa[::3][:10]
    with_ctx = without = 0
    for row in rows:
        ctx = [_relevant_chunk(docs[row["document"]], row["value"])]
        with_ctx += row["value"] in generate(gen, build_messages(row["question"], ctx)).text
        without += row["value"] in generate(gen, build_messages(row["question"], None)).text
    assert without <= 1, without  # closed-book: it cannot know held-out facts
    assert with_ctx >= 8, with_ctx  # open book: it reads the fact (see models/lab-tiny-lm/MODEL_CARD.md)


def test_general_facts_known_closed_book(gen):
    from core.world import GENERAL_FACTS

    hits = sum(f["value"] in generate(gen, build_messages(f["question"], None)).text for f in GENERAL_FACTS)
    assert hits >= len(GENERAL_FACTS) - 1


def test_prompt_too_long_raises(gen):
    with pytest.raises(ConfigError):
        generate(gen, build_messages("Q?", ["word " * 3000]), max_new_tokens=8)
    with pytest.raises(ConfigError):
        generate(gen, "hello", max_new_tokens=0)


def test_unknown_local_path_and_offline_hub_id_raise(tmp_path, monkeypatch):
    with pytest.raises(ModelUnavailable, match="no model folder"):
        load_generator(str(tmp_path / "does-not-exist"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailable, match="local folder"):
        load_generator("nonexistent-org-ragft/no-such-model-xyz")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ModelUnavailable, match="missing or damaged"):
        load_generator(str(broken))


@pytest.mark.parametrize("error, expected", [
    (OSError("nonexistent-org/x is not a local folder and is not a valid model identifier listed on "
             "'https://huggingface.co/models'"), "could not find a model named nonexistent-org/x"),
    (OSError("We couldn't connect to 'https://huggingface.co' to load the files, and couldn't find them in the "
             "cached files."), "the model hub is unreachable"),
    (RuntimeError("something else entirely"), "could not load nonexistent-org/x: RuntimeError"),
])
def test_hub_failures_get_a_message_that_says_what_to_do(monkeypatch, error, expected):
    """The online branches (unknown name, hub unreachable) with transformers' own error texts."""
    from core.llm.loading import _explain

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert expected in _explain("nonexistent-org/x", error, is_local=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")  # either offline switch counts
    assert "offline mode is on" in _explain("nonexistent-org/x", error, is_local=False)


def test_local_random_model_folder_loads_through_same_path(tmp_path, gen):
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(vocab_size=len(gen.tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                      bos_token_id=gen.tokenizer.bos_token_id, eos_token_id=gen.tokenizer.eos_token_id,
                      pad_token_id=gen.tokenizer.pad_token_id)
    LlamaForCausalLM(cfg).save_pretrained(tmp_path / "tiny")
    gen.tokenizer.save_pretrained(tmp_path / "tiny")
    local = load_generator(str(tmp_path / "tiny"))
    assert not local.is_builtin and local.context_window == 256 and local.n_params < 1e6
    out = generate(local, build_messages("Hello?", None), max_new_tokens=5)
    assert out.completion_tokens <= 5
    assert generate(local, "raw prompt text", max_new_tokens=3).prompt_tokens >= 2


def test_decoding_uses_the_supported_cache_argument(gen, tiny_models):
    """transformers 5 deprecates ``past_key_values`` (removed in 5.40): the decode loop passes ``cache``."""
    import warnings

    for g in (gen, load_generator(str(tiny_models["t5"]), cache=False)):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            out = generate(g, build_messages("Who owns Elmby Blooms?", None), max_new_tokens=6, ignore_eos=True)
        assert out.completion_tokens == 6
        assert not [w for w in seen if "past_key_values" in str(w.message)], [str(w.message) for w in seen]
