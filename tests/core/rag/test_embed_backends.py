"""Embedder backends: the ONNX exports agree with PyTorch, are made once, and fall back cleanly."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from core.rag import embed_backends
from core.rag.retrieval_metrics import compare_backends
from core.cli import main
from core.rag.embedding import EmbeddingCache, embed_texts, load_embedder, prepare_backends, resolve_embedder_path
from tests.helpers import ROOT

TEXTS = ["Roses need six hours of sun a day.", "The shop opens at nine on weekdays.",
         "Refunds are given within fourteen days with a receipt.", "a", "Tulip bulbs go in the ground in autumn. " * 20]


@pytest.mark.parametrize("given, expected", [(None, embed_backends.DEFAULT_BACKEND), ("torch", "torch"),
                                             ("onnx", "onnx"), ("onnx-int8", "onnx-int8")])
def test_backend_names_resolve(given, expected, monkeypatch):
    monkeypatch.delenv(embed_backends.BACKEND_ENV, raising=False)
    assert embed_backends.check_backend(given) == expected


def test_unknown_backend_names_the_choices(monkeypatch):
    with pytest.raises(ValueError, match="expected one of torch, onnx, onnx-int8"):
        embed_backends.check_backend("tensorrt")
    monkeypatch.setenv(embed_backends.BACKEND_ENV, "torch")
    assert embed_backends.check_backend(None) == "torch"


@pytest.fixture(scope="module")
def onnx_embedder():
    return load_embedder(backend="onnx")


def test_onnx_is_lossless_and_int8_close(onnx_embedder, torch_embedder, int8_embedder):
    embedder = onnx_embedder
    assert embed_backends.DEFAULT_BACKEND == "onnx-int8"  # the fast one; hit@5 unchanged (README Embedder backends)
    reference = torch_embedder.encode(TEXTS)
    for emb, floor in ((embedder, 0.9999), (int8_embedder, 0.97)):
        vectors = emb.encode(TEXTS)
        assert vectors.shape == reference.shape and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert np.sum(vectors * reference, axis=1).min() > floor
    assert np.abs(int8_embedder.encode(TEXTS) - reference).max() > 1e-3  # really quantised, not the fp32 model


def test_cache_is_keyed_by_backend(tmp_path, onnx_embedder, torch_embedder, int8_embedder):
    keys = {e.cache_key for e in (onnx_embedder, torch_embedder, int8_embedder)}
    assert keys == {"all-MiniLM-L6-v2", "all-MiniLM-L6-v2@onnx", "all-MiniLM-L6-v2@onnx-int8"}
    embed_texts(int8_embedder, TEXTS[:2], cache=EmbeddingCache(tmp_path, int8_embedder.cache_key))
    assert len(EmbeddingCache(tmp_path, int8_embedder.cache_key)) == 2
    assert len(EmbeddingCache(tmp_path, torch_embedder.cache_key)) == 0  # torch never reads int8 vectors


def test_export_is_made_once_then_loaded_from_disk(int8_embedder):
    onnx_file = int8_embedder.model[0].model.onnx_file
    assert onnx_file.parent == embed_backends.export_folder(resolve_embedder_path(None)[0])  # content-keyed
    assert onnx_file.exists() and onnx_file.parent.parent == embed_backends.export_root()
    before = onnx_file.stat().st_mtime_ns
    again = load_embedder(backend="onnx-int8")
    assert again.model[0].model.onnx_file == onnx_file and onnx_file.stat().st_mtime_ns == before
    assert not list(onnx_file.parent.glob("tmp*")), "no half-written export is left behind"


def test_missing_onnx_runtime_falls_back_to_torch_with_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what Python does when the package is absent
    emb = load_embedder(backend="onnx")
    assert emb.backend == "torch" and emb.cache_key == "all-MiniLM-L6-v2"
    assert "ONNX Runtime is not installed" in emb.notice and "\n" not in emb.notice
    assert emb.encode(TEXTS[:1]).shape == (1, emb.dim)


@pytest.mark.slow  # loads int8 again and ingests a corpus: 45 s on a busy machine
def test_cli_takes_the_backend_flag(capsys, tmp_path):
    docs = str(ROOT / "sample_data" / "prose_flower_shop")
    code = main(["ingest", docs, "--embedder-backend", "onnx-int8", "--workspace", str(tmp_path), "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["embedder_backend"] == "onnx-int8"
    with pytest.raises(SystemExit) as stop:
        main(["search", "--docs", docs, "--query", "x", "--embedder-backend", "fp16"])
    assert stop.value.code == 2 and "invalid choice: 'fp16'" in capsys.readouterr().err


@pytest.mark.slow  # embeds a corpus with three backends: 141 s on a busy machine
def test_compare_backends_rows_against_fp32(onnx_embedder, torch_embedder, int8_embedder):
    embedder = onnx_embedder
    from core.rag.chunking import ChunkConfig, chunk_documents
    from core.rag.corpora import load_qa
    from core.rag.documents import load_paths

    folder = ROOT / "sample_data" / "prose_flower_shop"
    docs = load_paths([folder])[:2]  # two documents and their questions keep this a quick test
    chunks = chunk_documents(docs, ChunkConfig(), torch_embedder.tokens)
    qa = [item for item in load_qa(folder / "qa.jsonl") if item.document in {d.name for d in docs}]
    seen = []
    rows = compare_backends(chunks, {"onnx-int8": int8_embedder, "torch": torch_embedder, "onnx": embedder}, qa,
                            progress=lambda done, total, name: seen.append((done, total, name)))
    assert [r["backend"] for r in rows] == ["torch", "onnx-int8", "onnx"]  # the reference is measured first
    assert seen == [(1, 3, "torch"), (2, 3, "onnx-int8"), (3, 3, "onnx")]
    by = {r["backend"]: r for r in rows}
    assert by["torch"]["speedup"] == 1.0 and by["torch"]["top_k_changed"] == 0 and by["torch"]["cosine_min"] > 0.9999
    assert by["onnx"]["cosine_min"] > 0.9999 and by["onnx"]["hit_at_5"] == by["torch"]["hit_at_5"]
    assert 0.97 < by["onnx-int8"]["cosine_min"] < 1.0 and 0 <= by["onnx-int8"]["top_k_changed"] <= 5
    assert by["torch"]["n_questions"] == len(qa) > 0 and 0 < by["torch"]["hit_at_5"] <= 1
    no_qa = compare_backends(chunks[:8], {"torch": torch_embedder}, k=3)
    assert no_qa[0]["hit_at_5"] is None and no_qa[0]["top_k_changed"] == 0


@pytest.mark.slow  # a real int8 export into a fresh folder: 20-60 s
def test_prepare_backends_exports_what_later_loads_use(tmp_path):
    root = tmp_path / "exports"
    assert prepare_backends(backends=("onnx-int8",), export_root=root) == {"onnx-int8": "onnx-int8"}
    made = list(root.rglob("*.onnx"))
    assert [p.name for p in made] == ["model_int8.onnx"]
    stamp = made[0].stat().st_mtime_ns
    assert load_embedder(backend="onnx-int8", export_root=root).model[0].model.onnx_file == made[0]
    assert made[0].stat().st_mtime_ns == stamp
