"""Ten learners at once on one server: each asks the five systems a question, then trains its own LoRA run.

A workshop's first minutes, compressed: ten browser contexts (ten cookies, ten private sessions) hit the
same ``streamlit run app.py`` together. Every session must get five well-formed answers (RAG reads the
world corpus's price), and every session's training run must finish ("done"), queued one after another on
the server's training lane while the others keep asking and polling. Numbers go to
``test-artifacts/reliability.json``.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, IDLE, ROOT
from tests.browser.helpers import LOAD_TEST, record, run_async

pytestmark = [pytest.mark.browser, pytest.mark.slow, LOAD_TEST]
N_SESSIONS = 10
QUESTION = "How much is the Wilarmore Blender?"  # world_arcade, the default corpus of a new session
PRICE = "$70.35"


async def _idle(page) -> None:
    await page.wait_for_timeout(400)
    await page.wait_for_selector(IDLE, timeout=900_000)


async def _number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    await box.fill(str(value))
    await box.press("Enter")
    await _idle(page)


async def one_learner(browser, url: str, i: int) -> dict:
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(600_000)
    t0 = time.perf_counter()
    try:
        await page.goto(f"{url}/answers")
        await _idle(page)
        box = page.get_by_label("Your question", exact=True)
        await box.fill(QUESTION)
        await box.press("Enter")
        await _idle(page)
        await page.get_by_role("button", name="Ask all five").click()
        await _idle(page)
        headings = [t for t in ("Base", "RAG", "LoRA", "LoRA + RAG", "Long context")
                    if await page.get_by_role("heading", name=t, exact=True).count() == 1]
        marks = await page.get_by_text(re.compile(r"^(✅ contains|❌ no) ")).all_inner_texts()
        errors = await page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").count()
        answered = time.perf_counter() - t0

        sid = re.search(r"sid=([\w-]+)", page.url).group(1)
        await page.goto(f"{url}/finetune?sid={sid}")
        await _idle(page)
        await page.get_by_text("Type rows in a table").click()
        await _idle(page)
        await _number(page, "Training steps", 2)
        await _number(page, "Evaluate every (steps)", 2)
        await page.get_by_role("button", name="▶ Start training").click()
        headline = page.locator("[data-testid='stMarkdown']").filter(has_text=re.compile(r"^Run \S+ — ")).first
        await headline.wait_for(timeout=120_000)
        run = await headline.locator("code").inner_text()
        await page.locator("[data-testid='stMarkdown']").filter(has_text=run).filter(has_text="done").first.wait_for(
            timeout=1_200_000)
        errors += await page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").count()
        return {"i": i, "headings": headings, "marks": marks, "errors": errors, "run": run,
                "answered_s": round(answered, 1), "trained_s": round(time.perf_counter() - t0, 1)}
    except Exception as exc:  # noqa: BLE001  (reported per learner, with a screenshot, after all ten ran)
        shots = ROOT / "test-artifacts"
        shots.mkdir(exist_ok=True)
        await page.screenshot(path=str(shots / f"ten-sessions-{i:02d}-failed.png"), full_page=True)
        return {"i": i, "failed": f"{exc.__class__.__name__}: {str(exc)[:300]}"}
    finally:
        await context.close()


async def run_learners(url: str) -> tuple[list[dict], float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        t0 = time.perf_counter()
        results = await asyncio.gather(*(one_learner(browser, url, i) for i in range(N_SESSIONS)))
        wall = time.perf_counter() - t0
        await browser.close()
    return list(results), wall


def test_ten_sessions_answer_and_train_at_once(lab_url):
    results, wall = run_async(run_learners(lab_url))
    failed = [r for r in results if "failed" in r]
    record("ten_sessions", {"sessions": N_SESSIONS, "completed": N_SESSIONS - len(failed), "wall_s": round(wall, 1),
                            "answered_s": sorted(r.get("answered_s", 0) for r in results),
                            "trained_s": sorted(r.get("trained_s", 0) for r in results),
                            "failures": [r["failed"][:160] for r in failed]})
    assert not failed, failed
    for r in results:
        assert r["errors"] == 0, r
        assert r["headings"] == ["Base", "RAG", "LoRA", "LoRA + RAG", "Long context"], r
        assert f"✅ contains “{PRICE}”" in r["marks"], r  # RAG read the price in every session
    assert len({r["run"] for r in results}) == N_SESSIONS  # ten runs, one per session, all done
