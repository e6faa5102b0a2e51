"""Sessions are private by default: 128-bit ids, no cleaned-up matches, and the URL alone opens nothing.

The browser half (the cookie is really set, a refresh reconnects, another browser cannot) is
``tests/browser/test_private_sessions.py``.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.runtime.sessions import (
    OWNER_FILE, claim, is_browser_key, is_session_id, new_browser_key, new_session_id, owns, resolve_session,
)
from core.runtime.workspace import Workspace, default_root
from tests.helpers import ROOT
from tests.helpers import DOCUMENTS, NOTE, upload

pytestmark = pytest.mark.usefixtures("fresh_embedding_cache")  # counts what gets embedded

TIMEOUT = 240


def variants(sid: str) -> list[str]:
    """The spellings that used to open ``sid`` after cleaning."""
    return [f"../{sid}", f"%2e%2e%2f{sid}", f"{sid}/x", f"{sid}!!", sid.upper(), f" {sid}", sid[:-1], sid + "0"]


def test_ids_carry_128_bits_and_keys_256():
    ids = {new_session_id() for _ in range(200)}
    assert len(ids) == 200 and all(is_session_id(i) and len(i) == 32 for i in ids)  # 32 hex = 128 bits
    assert all(is_browser_key(new_browser_key()) for _ in range(20))


@pytest.mark.parametrize("bad", variants("0123456789abcdef0123456789abcdef") + ["", None, 42, "abc"])
def test_only_an_exact_id_is_an_id(bad):
    assert not is_session_id(bad)


def test_the_owner_reconnects_and_nobody_else_does(tmp_path):
    key, other = new_browser_key(), new_browser_key()
    sid, note = resolve_session(tmp_path, None, key)
    assert note is None and owns(tmp_path, sid, key) and (tmp_path / sid / OWNER_FILE).is_file()
    assert key not in (tmp_path / sid / OWNER_FILE).read_text()  # only its hash is stored
    assert resolve_session(tmp_path, sid, key) == (sid, None)
    stranger, note = resolve_session(tmp_path, sid, other)
    assert stranger != sid and "belongs to another browser" in note
    for bad in variants(sid):
        opened, note = resolve_session(tmp_path, bad, key)  # even the owner's own key: no cleaned-up match
        assert opened != sid and "not valid" in note
    assert not owns(tmp_path, sid, "not-a-key") and not owns(tmp_path, "../" + sid, key)


def test_a_session_without_an_owner_record_is_not_opened(tmp_path):
    legacy = new_session_id()
    (tmp_path / legacy).mkdir()
    opened, note = resolve_session(tmp_path, legacy, new_browser_key())
    assert opened != legacy and "another browser" in note
    claim(tmp_path, legacy, key := new_browser_key())
    assert resolve_session(tmp_path, legacy, key) == (legacy, None)


def test_a_shared_url_opens_a_new_empty_session_in_the_app():
    """Alice uploads; Bob opens Alice's ?sid= (no cookie: AppTest sends none): he sees none of her files."""
    alice = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    alice.run()
    alice_sid = alice.session_state["sid"]
    assert is_session_id(alice_sid) and alice.query_params["sid"] == alice_sid
    alice.switch_page(DOCUMENTS)
    alice.run()
    upload(alice, {"alice-secret.txt": NOTE})
    assert [p.name for p in Workspace(default_root()).session(alice_sid).path("uploads").iterdir()] == ["alice-secret.txt"]

    for link in [alice_sid, f"../{alice_sid}", f"{alice_sid}!!"]:
        bob = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        bob.query_params["sid"] = link
        bob.session_state["corpus"] = "uploads"
        bob.run()
        bob.switch_page(DOCUMENTS)
        bob.run()
        assert not bob.exception
        assert bob.session_state["sid"] != alice_sid and bob.query_params["sid"] == bob.session_state["sid"]
        assert any("new, empty session of your own" in w.value for w in bob.sidebar.warning)
        assert not any("alice-secret" in m.value for m in bob.markdown) and not len(bob.dataframe)
