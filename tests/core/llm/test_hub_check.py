"""An unreachable hub is said plainly within seconds, and the message is on the page without a click."""

from __future__ import annotations

import socket

import pytest

from core.errors import ModelUnavailable
from core.llm.hub import check_hub, hub_reachable
from tests.helpers import MODEL, start


@pytest.fixture
def dead_hub(monkeypatch):
    """A hub endpoint on a loopback port nobody listens on (as on a machine without internet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)


def test_unreachable_hub_fails_fast_with_words(dead_hub, tmp_path):
    assert not hub_reachable()
    with pytest.raises(ModelUnavailable, match="cannot be reached"):
        check_hub("some-org/some-model-7c1d")
    check_hub(str(tmp_path))  # a local folder needs no hub


def test_model_page_shows_the_reason_without_a_click(dead_hub, tiny_model):
    at = start("hubcheck", MODEL, generator_name=tiny_model)
    at.text_input(key="model_name_input").set_value("some-org/some-model-7c1d")
    next(b for b in at.button if b.label == "Load model").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.main.error]
    assert any("cannot be reached" in e and "stays loaded" in e for e in errors), errors
    boxed = [e.value for box in at.main.expander for e in box.error]  # st.status is a collapsible box
    assert not boxed, boxed  # the reason is outside it: visible without a click
