"""The guided path from a fresh session: the tour walks the pages to the five answers on the default 🧪 corpus.

The learner never picks a corpus: the default is a world corpus, so the tour's answers step ends with
RAG ✅ and base ❌. A refresh of the same ?sid= URL keeps the corpus and the chunk settings.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, wait_idle
from tests.browser.helpers import choose, goto, no_errors, real_sid, set_number


def click(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).first.click()
    page.wait_for_timeout(800)
    wait_idle(page)


def test_tour_reaches_four_answers_on_the_default_world_corpus(page, lab_url):
    page.goto(f"{lab_url}/")  # a fresh visit: the Lab makes a new private session
    wait_idle(page)
    page.get_by_text("🧪 world vs 📄 prose corpora").first.wait_for()  # a fresh page may look idle before its first run
    assert page.get_by_text("🧪 world vs 📄 prose corpora").count() == 1
    screenshot(page, "home")
    click(page, "🧭 Start the tour")
    assert page.get_by_role("heading", name="Documents & chunking").count() >= 1 or "documents" in page.url
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar.get_by_text("Tour 1/8")).to_have_count(1)
    for step in range(2, 6):  # documents → embeddings → retrieval → prompt → answers
        # Until the page switch has finished, the old page's panel may still be drawn beside the new one.
        expect(sidebar.get_by_role("button", name="▶", exact=True)).to_have_count(1, timeout=120_000)
        sidebar.get_by_role("button", name="▶", exact=True).click()
        expect(sidebar.get_by_text(f"Tour {step}/8")).to_have_count(1, timeout=120_000)
        wait_idle(page)
    assert "answers" in page.url
    sidebar.get_by_text("No, it will make one up").click()  # predict first …
    page.wait_for_timeout(300)
    wait_idle(page)
    click(page, "Reveal")  # … then see the answer
    assert sidebar.get_by_text("✅ right").count() == 1
    click(page, "Ask all five")
    page.get_by_text(re.compile(r"^(✅ contains|❌ no) ")).nth(1).wait_for(timeout=180_000)  # the click's run may start late
    wait_idle(page)
    no_errors(page)
    marks = page.get_by_text(re.compile(r"^(✅ contains|❌ no) ")).all_inner_texts()
    assert marks[:2] and marks[0].startswith("❌") and marks[1].startswith("✅"), marks  # base guesses, RAG reads
    screenshot(page, "tour-answers")


# Every value the "Chunk size" box shows, from the page's first frame (read before Streamlit's idle mark, which a
# fresh page can carry before its first run has even started).
BOX_HISTORY = """
window.__chunkSizes = [];
const watch = () => {
  const box = [...document.querySelectorAll('[data-testid="stNumberInput"]')]
    .find(w => w.querySelector('[data-testid="stWidgetLabel"]')?.innerText.trim() === 'Chunk size');
  const value = box?.querySelector('input')?.value;
  if (value !== undefined && window.__chunkSizes.at(-1) !== value) window.__chunkSizes.push(value);
  requestAnimationFrame(watch);
};
requestAnimationFrame(watch);
"""


def test_refresh_keeps_corpus_and_chunk_settings(page, lab_url, lab_workspace):
    """F5 brings the corpus and the chunk size back, and the box never shows another size on the way.

    It used to mount at its minimum (1) for a frame before adopting the saved size: a reader of the first
    frame (this test, on a busy machine) saw 1, and any rerun sent in that frame would have saved it.
    """
    page.add_init_script(BOX_HISTORY)
    goto(page, lab_url, "documents", sid="refreshkeep1")
    choose(page, "Corpus", "Synthetic world: greenhouse")
    for _ in range(3):  # on a busy machine a rerun may land while the box is being typed into: type it again
        set_number(page, "Chunk size", 128)
        if page.get_by_label("Chunk size", exact=True).input_value() == "128":
            break
    saved = lab_workspace / "sessions" / real_sid("refreshkeep1") / "settings.json"
    for _ in range(120):  # the rerun that saves may still be on its way on a busy machine
        if saved.exists() and json.loads(saved.read_text()).get("chunk_config", {}).get("size") == 128:
            break
        page.wait_for_timeout(500)
    assert json.loads(saved.read_text())["chunk_config"]["size"] == 128
    for _ in range(2):  # F5 twice: a new Streamlit session on the same ?sid= each time
        page.reload()
        wait_idle(page)
        page.get_by_text("Synthetic world: greenhouse").first.wait_for()
        box = page.get_by_label("Chunk size", exact=True)
        box.wait_for()
        page.wait_for_timeout(500)  # a frame or two after the box appeared
        assert page.evaluate("window.__chunkSizes") == ["128"], "the box showed another size after the refresh"
        assert box.input_value() == "128"
    corpus = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first
    assert "Synthetic world: greenhouse" in corpus.inner_text() + corpus.locator("input").first.input_value()
    assert json.loads(saved.read_text())["chunk_config"]["size"] == 128  # and nothing saved another size since
