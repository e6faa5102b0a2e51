"""Embedding space page, driven through the entrypoint with AppTest."""

from __future__ import annotations

import numpy as np
import pytest

from core.rag.chunking import ChunkConfig
from tests.helpers import figures, open_page, text_uploads


PAGE = "pages/2_embeddings.py"


@pytest.fixture
def at():
    return open_page(PAGE, uploads=text_uploads())


def _map(at) -> dict:
    return figures(at)[0]


def _traces(figure: dict) -> dict[str, dict]:
    return {t["name"]: t for t in figure["data"]}


def test_map_shows_every_chunk_coloured_by_document(at):
    traces = _traces(_map(at))
    assert set(traces) == {"delivery.md", "roses.txt", "tulips.txt"}
    n_points = sum(len(t["x"]) for t in traces.values())
    assert n_points == len(at.session_state["_retrievers"][next(iter(at.session_state["_retrievers"]))].chunks)
    assert all(t["type"] == "scatter" for t in traces.values())
    assert "PCA keeps" in " ".join(c.value for c in at.caption)


def test_question_lands_in_the_same_map_with_lines_to_its_neighbours(at):
    before = {name: (t["x"], t["y"]) for name, t in _traces(_map(at)).items()}
    at.text_input(key="emb_query").set_value("How much does delivery to Ashcombe cost?")
    at.slider(key="emb_k").set_value(2)
    at.run()
    assert not at.exception
    traces = _traces(_map(at))
    assert {name: (traces[name]["x"], traces[name]["y"]) for name in before} == before  # the map did not move
    neighbours = traces["top-2 neighbours"]
    assert len(neighbours["x"]) == 2
    assert "Ashcombe" in neighbours["hovertext"][0] and "#1 · cosine" in neighbours["hovertext"][0]
    assert len(traces["your question"]["x"]) == 1
    line_x = traces["question → neighbours"]["x"]
    assert len(line_x) == 6 and line_x[0] == traces["your question"]["x"][0]
    query_heatmap = figures(at)[1]["data"][0]
    assert query_heatmap["type"] == "heatmap" and query_heatmap["x"][0] == "question"
    z = np.array(query_heatmap["z"])
    assert z.shape == (3, 3) and np.allclose(np.diag(z), 1.0, atol=1e-4)
    assert z[0, 1] >= z[0, 2]  # the first neighbour is the most similar


def test_cluster_colouring_in_3d(at):
    at.radio(key="emb_colour").set_value("cluster")
    at.radio(key="emb_dims").set_value(3)
    at.run()
    assert not at.exception
    traces = _traces(_map(at))
    assert set(traces) <= {f"cluster {i}" for i in range(1, 5)} and len(traces) >= 2
    assert all(t["type"] == "scatter3d" and len(t["z"]) == len(t["x"]) for t in traces.values())


def test_colour_by_chunking_run_compares_two_configs(at):
    at.radio(key="emb_colour").set_value("run")
    at.run()
    at.selectbox(key="emb_cmp_strategy").set_value("characters")
    at.run()
    assert not at.exception
    names = list(_traces(_map(at)))
    assert len(names) == 2 and names[0].startswith("A: recursive") and names[1].startswith("B: characters")


def test_tsne_says_how_the_question_is_placed(at):
    at.radio(key="emb_method").set_value("tsne")
    at.run()
    assert "needs at least 6 chunks; showing PCA instead" in " ".join(c.value for c in at.caption)  # 3 chunks
    at.session_state["chunk_config"] = ChunkConfig("characters", 60, 10)  # ~12 chunks: enough for t-SNE
    at.text_input(key="emb_query").set_value("When should roses be pruned?")
    at.run()
    assert not at.exception
    assert any("t-SNE cannot place new points" in i.value for i in at.info)
    traces = _traces(_map(at))
    assert sum(len(t["x"]) for name, t in traces.items() if name.endswith((".md", ".txt"))) >= 6
    assert len(traces["your question"]["x"]) == 1


def test_empty_and_overlong_questions(at):
    assert any("Type a question" in c.value for c in at.caption)
    at.text_input(key="emb_query").set_value("why? " * 500)
    at.run()
    assert not at.exception and not at.error
    assert "the limit is 2,000" in at.warning[0].value


@pytest.mark.slow
def test_three_backends_side_by_side_on_a_click():
    at = open_page(PAGE, corpus="prose_flower_shop")
    assert not at.dataframe and "emb_backend_go" in [b.key for b in at.button]  # nothing is measured on a rerun
    at.button(key="emb_backend_go").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert list(table["backend"]) == ["PyTorch fp32 (reference)", "ONNX, optimised (fp32)", "ONNX int8 (quantised)"]
    torch_row, onnx_row, int8_row = table.to_dict("records")
    assert torch_row["cosine to fp32 (mean)"] == 1.0 and torch_row["top-5 neighbours changed"] == 0
    assert onnx_row["cosine to fp32 (worst chunk)"] >= 0.9999 and onnx_row["hit@5"] == torch_row["hit@5"]
    assert 0.97 < int8_row["cosine to fp32 (worst chunk)"] < 1.0  # quantised: close, not equal
    assert 0 < torch_row["hit@5"] <= 1 and abs(int8_row["hit@5"] - torch_row["hit@5"]) <= 0.1
    assert any("Top-5 neighbours changed" in c.value and "LoRA" in c.value for c in at.caption)
    at.run()  # a rerun shows the result again without measuring again
    assert at.dataframe[0].value.equals(table)
def test_small_corpus_words_and_heatmap_labels_are_honest():
    """Four one-line files = four chunks: each has 3 neighbours, a one-chunk document gets no 1×1 heatmap,
    and heatmap labels are two decimals (never float32 noise such as 0.4499999940395355)."""
    files = {f"note{i}.txt": f"Note {i}: the {w} opens at {i + 8} o'clock.".encode()
             for i, w in enumerate(["bakery", "library", "garage", "museum"])}
    at = open_page(PAGE, uploads=files)
    at.text_input(key="emb_query").set_value("When does the library open?")
    at.run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "Of each chunk's 3 closest chunks" in captions and "10 closest" not in captions
    assert "single chunk" in captions
    labels = [t for row in figures(at)[1]["data"][0]["text"] for t in row]
    assert all(len(t.split(".")[-1]) == 2 for t in labels), labels
