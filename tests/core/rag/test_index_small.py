"""IVF on the Lab's small corpora: fewer lists automatically, no FAISS warning, the exact answer when all lists are probed."""

from __future__ import annotations

import numpy as np
import pytest

from core.rag.index import DenseIndex, IndexConfig, ivf_lists


@pytest.mark.parametrize("n, requested, lists", [(38, 0, 6), (4, 0, 1), (1, 0, 1), (38, 20, 9), (10_000, 0, 100)])
def test_ivf_lists_fit_the_corpus(n, requested, lists):
    assert ivf_lists(n, requested) == lists


@pytest.mark.parametrize("n", [38, 4])
def test_ivf_works_on_small_corpora_without_a_warning(n, capfd):
    rng = np.random.default_rng(n)
    vectors = rng.normal(size=(n, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = DenseIndex(vectors, IndexConfig("ivf", ivf_nprobe=64))
    ids = index.search(vectors[:3], 1)[1][:, 0]
    assert list(ids) == [0, 1, 2]  # every list probed: the same as exact search
    assert "WARNING" not in capfd.readouterr().err  # FAISS prints its clustering warning to stderr
