"""Every page survives every value its widgets allow: each slider and number box at its minimum and its
maximum, each text box empty and overlong (with markup), each checkbox on and off. No exception box.

The corpus is three small uploads plus a document of only stop words (no BM25 terms), so chunk size 1,
k above the number of chunks and IVF on a tiny corpus all come up. Buttons are not pressed (the page
tests press them); the pages are driven through ``app.py`` as a browser would.
"""

from __future__ import annotations

import pytest

from core.rag.chunking import ChunkConfig
from tests.helpers import open_page, text_uploads

pytestmark = pytest.mark.usefixtures("fresh_embedding_cache")  # counts what gets embedded

PAGES = ["pages/0_home.py", "pages/1_documents.py", "pages/2_embeddings.py", "pages/3_retrieval.py",
         "pages/4_prompt.py", "pages/5_finetune.py", "pages/6_answers.py", "pages/7_experiments.py",
         "pages/8_decision.py", "pages/9_model.py"]
LONG_TEXT = "<script>alert(1)</script> é日本 " * 120  # 3,600 characters: past every question limit
KINDS = ("slider", "number_input", "text_input", "text_area", "checkbox")
QUESTION = "How much is delivery to Ashcombe?"
WORLD = "world_greenhouse"  # the experiments need a corpus the built-in model reads
NO_WIDGETS = {"uploads": ("pages/0_home.py", "pages/7_experiments.py", "pages/9_model.py")}
RAG_PAGES = ["pages/2_embeddings.py", "pages/3_retrieval.py", "pages/4_prompt.py", "pages/6_answers.py"]


def extremes(widget) -> list:
    """The values at the edges of what the widget lets a user enter."""
    if widget.type == "slider":
        lo, hi = widget.min, widget.max
        return [(lo, lo), (hi, hi)] if isinstance(widget.value, tuple) else [lo, hi]
    if widget.type == "number_input":
        cast = int if isinstance(widget.value, int) else float
        return [cast(v) for v in (widget.min, widget.max) if v is not None]
    if widget.type in ("text_input", "text_area"):
        limit = getattr(widget, "max_chars", 0) or len(LONG_TEXT)
        return ["", LONG_TEXT[:limit]]
    return [True, False]


def keyed_widgets(at) -> list[tuple[str, str]]:
    return [(kind, w.key) for kind in KINDS for w in getattr(at, kind) if w.key]


def no_exception(at, where: str) -> None:
    assert not at.exception, (where, [e.value[:500] for e in at.exception])


@pytest.mark.slow
@pytest.mark.parametrize("page, chunk_size, corpus", [(p, None, "uploads") for p in PAGES]
                         + [(p, 1, "uploads") for p in RAG_PAGES] + [("pages/7_experiments.py", None, WORLD)])
def test_every_widget_at_its_extremes(page, chunk_size, corpus):
    at = open_page(page, uploads=text_uploads({"stop.txt": "the and of to a in"}))
    at.session_state["corpus"] = corpus
    if chunk_size:  # one-character chunks: hundreds of them, none with a BM25 term
        at.session_state["chunk_config"] = ChunkConfig("recursive", chunk_size, 0)
    at.run()
    for box in at.text_input:  # a real question first, so the sections that need one are drawn and swept
        box.set_value(QUESTION)
    at.run()
    no_exception(at, f"{page} with a question")
    widgets = keyed_widgets(at)
    assert widgets or page in NO_WIDGETS.get(corpus, ()), "the sweep found no widgets"
    for kind, key in widgets:
        try:
            original = getattr(at, kind)(key=key).value
        except KeyError:  # hidden by an earlier value (e.g. a section that needs more chunks)
            continue
        for value in extremes(getattr(at, kind)(key=key)):
            getattr(at, kind)(key=key).set_value(value)
            at.run()
            no_exception(at, f"{page} {key}={str(value)[:40]!r}")
            if not any(w.key == key for w in getattr(at, kind)):
                break
        if any(w.key == key for w in getattr(at, kind)):
            getattr(at, kind)(key=key).set_value(original)
            at.run()
            no_exception(at, f"{page} {key} back to {original!r}")
