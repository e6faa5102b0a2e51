"""``python -m core warmup``: what it does once so that later processes start warm."""

from __future__ import annotations

import pytest

from core.cli import main
from core.runtime.libraries import numba_cache_dir, set_numba_cache
from core.warmup import warm_up


def test_numba_cache_goes_to_the_workspace_unless_chosen(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    set_numba_cache(tmp_path)
    import os

    assert os.environ["NUMBA_CACHE_DIR"] == str(numba_cache_dir(tmp_path))
    set_numba_cache(tmp_path / "other")  # the user's (or an earlier) choice wins
    assert os.environ["NUMBA_CACHE_DIR"] == str(numba_cache_dir(tmp_path))


def test_unknown_corpus_is_a_one_line_error(capsys):
    assert main(["warmup", "--corpus", "no_such_corpus", "--no-umap"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown corpus no_such_corpus") and err.count("\n") == 1


@pytest.mark.slow
def test_warm_up_embeds_the_sample_and_measures_speed(tmp_path):
    seen = []
    report = warm_up(["world_arcade"], tmp_path, umap=False, progress=lambda stage, i, n: seen.append((stage, i, n)))
    assert report.chunks["world_arcade"] > 0 and report.tokens_per_s > 0
    assert [s for s, _, _ in seen] == list(report.stages) and seen[-1][1:] == (len(seen) - 1, len(seen))
    assert any((tmp_path / "embeddings").iterdir())  # the shared cache now holds the sample's vectors
