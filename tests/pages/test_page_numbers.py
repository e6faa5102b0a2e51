"""Every page's number boxes, through the entrypoint (``ui.numbers.number_box``): a number the box cannot hold
never replaces the one in use, and a value the Lab cannot use gets a message at the box while the page keeps its
last good setting.

In a browser the box itself refuses a number outside its range and says so (``tests/browser/test_bounds.py``);
here, as from a link, such a number is sent anyway and must leave the number in use (not 1, not the minimum).
A fraction in a whole-number box passes the box and is refused under it.
"""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT
from tests.helpers import boxes, open_page, text_uploads, tiny_model_dir

HUGE = 1e30  # what an integer box used to read as 1


@pytest.fixture(autouse=True)
def _clear_caches():
    st.cache_data.clear()
    yield


def type_into(at: AppTest, key: str, value: float) -> list[str]:
    at.number_input(key=key).set_value(value)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return boxes(at, "error")


def keeps(at: AppTest, key: str, value: float) -> None:
    """Typing ``value`` into the box leaves its number, and says nothing the browser would not."""
    before = at.number_input(key=key).value
    type_into(at, key, value)
    assert at.number_input(key=key).value == before, (key, value)


def test_documents_chunk_boxes_say_why_and_keep_the_settings():
    at = open_page("pages/1_documents.py", uploads=text_uploads())
    before = at.session_state["chunk_config"]
    keeps(at, "doc_size", HUGE)
    assert at.session_state["chunk_config"] == before
    errors = type_into(at, "doc_size", 100.5)
    assert "Chunk size must be a whole number from 1 to 20,000 (got 100.5)." in errors, errors
    assert at.session_state["chunk_config"] == before  # the other pages keep the last good settings
    errors = type_into(at, "doc_size", 96)  # a good value is used at once, and the message goes
    assert at.session_state["chunk_config"].size == 96 and not any("Chunk size" in e for e in errors), errors
    keeps(at, "doc_qb_per_doc", 500)
    errors = type_into(at, "doc_qb_per_doc", 2.5)
    assert "Facts per document must be a whole number from 1 to 200 (got 2.5)." in errors, errors
    assert at.button(key="doc_qb_make").disabled


def test_decision_costs_wait_for_valid_numbers():
    at = open_page("pages/8_decision.py")
    keeps(at, "dg_requests", HUGE)
    keeps(at, "dg_price_in", 2.5)
    errors = type_into(at, "dg_requests", 1500.5)
    assert "Requests per month must be a whole number from 0 to 100,000,000 (got 1500.5)." in errors, errors
    assert not [m for m in at.markdown if m.value.startswith("### Recommended: ")]
    assert any("wait until every number above is valid" in i.value for i in at.info)


def test_prompt_window_says_why():
    at = open_page("pages/4_prompt.py")
    keeps(at, "pr_window", HUGE)
    errors = type_into(at, "pr_window", 100.5)
    assert "Context window (tokens) must be a whole number from 64 to 1,000,000 (got 100.5)." in errors, errors


def test_retrieval_nlist_says_why():
    at = open_page("pages/3_retrieval.py")
    keeps(at, "ret_nlist", -1)
    errors = type_into(at, "ret_nlist", 2.5)
    assert "IVF: nlist (0 = automatic) must be a whole number from 0 to 4,096 (got 2.5)." in errors, errors


def test_quiz_round_size_says_why():
    at = open_page("pages/11_quiz.py")
    keeps(at, "quiz_n", 11)
    errors = type_into(at, "quiz_n", 2.5)
    assert "Questions per round must be a whole number from 1 to 10 (got 2.5)." in errors, errors


def test_finetune_boxes_say_why_and_training_waits(tmp_path):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["generator_name"] = str(tiny_model_dir(tmp_path))
    at.run()
    at.switch_page("pages/5_finetune.py")
    at.run()
    keeps(at, "ft_seed", HUGE)
    errors = type_into(at, "ft_steps", 2.5)
    assert "Training steps must be a whole number from 1 to 2,000 (got 2.5)." in errors, errors
    assert any("training waits until it is" in e for e in errors), errors
