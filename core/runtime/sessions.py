"""Private sessions: an unguessable id in the URL, and a per-browser key that must match it.

A session is a folder under ``<workspace>/sessions/<id>`` (uploads, adapters, runs). Its id is
128 random bits, written as 32 lowercase hex characters; anything else is not an id (no cleaning,
so ``../<id>`` or ``<id>!!`` never open ``<id>``). The folder also holds ``owner.json`` with the
SHA-256 of the key of the browser that created it. The key lives in that browser's cookie, never in
the URL: a link seen on a projected screen reconnects nobody but the browser that made it; anyone
else gets a new, empty session of their own.

>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> key = new_browser_key()
>>> sid, note = resolve_session(root, None, key)       # a first visit: a new session
>>> resolve_session(root, sid, key) == (sid, None)      # the same browser reconnects
True
>>> other, note = resolve_session(root, sid, new_browser_key())  # another browser, same URL
>>> other != sid and "another browser" in note
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path

from core.runtime.workspace import atomic_write_json, read_json

ID_BYTES = 16  # 128 bits: guessing one of 30 live ids takes ~10^37 tries
KEY_BYTES = 32
OWNER_FILE = "owner.json"
_ID = re.compile(r"[0-9a-f]{32}")
_KEY = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32)


def new_session_id() -> str:
    return secrets.token_hex(ID_BYTES)


def is_session_id(text: object) -> bool:
    """Exactly a generated id: 32 lowercase hex characters, nothing before or after."""
    return isinstance(text, str) and _ID.fullmatch(text) is not None


def new_browser_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def is_browser_key(text: object) -> bool:
    return isinstance(text, str) and _KEY.fullmatch(text) is not None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def session_folder(sessions_root: Path, session_id: str) -> Path:
    if not is_session_id(session_id):
        raise ValueError(f"not a session id: {session_id!r}")
    return Path(sessions_root) / session_id


def claim(sessions_root: Path, session_id: str, key: str) -> None:
    """Record ``key``'s browser as the owner of a new session."""
    folder = session_folder(sessions_root, session_id)
    atomic_write_json(folder / OWNER_FILE, {"key_sha256": _digest(key)})


def owns(sessions_root: Path, session_id: str, key: str) -> bool:
    """True when ``session_id`` is a real id whose recorded owner is ``key`` (constant-time compare)."""
    if not is_session_id(session_id) or not is_browser_key(key):
        return False
    owner = read_json(session_folder(sessions_root, session_id) / OWNER_FILE, {}) or {}
    recorded = owner.get("key_sha256") if isinstance(owner, dict) else None
    return isinstance(recorded, str) and hmac.compare_digest(recorded, _digest(key))


def resolve_session(sessions_root: Path, asked: str | None, key: str) -> tuple[str, str | None]:
    """The session a browser with ``key`` gets for the URL's ``?sid=`` value ``asked``.

    Returns ``(session_id, note)``: the asked id when this browser owns it (``note`` None), else a new
    session this browser owns, with a note that says why the link did not open.
    """
    if asked and owns(sessions_root, asked, key):
        return asked, None
    session_id = new_session_id()
    claim(sessions_root, session_id, key)
    if not asked:
        return session_id, None
    if is_session_id(asked) and (Path(sessions_root) / asked).is_dir():
        return session_id, ("That link opens a session that belongs to another browser, so this is a new, "
                            "empty session of your own. Sessions reopen only in the browser that made them.")
    return session_id, "That link's session id is not valid, so this is a new, empty session of your own."
