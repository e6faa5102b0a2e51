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
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from core.runtime.workspace import atomic_write_json, read_json

ID_BYTES = 16  # 128 bits: guessing one of 30 live ids takes ~10^37 tries
KEY_BYTES = 32
OWNER_FILE = "owner.json"
_ID = re.compile(r"[0-9a-f]{32}")
_KEY = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32)
MAX_KEYS = 4  # keys one cookie may carry (tabs opened at once each add theirs before one is read back)
NO_COOKIE_NOTE = ("This browser sent no Lab cookie, so the Lab cannot tell whether the session in this link is "
                  "yours: a session opens only in the browser that made it, and if that was this one, cookies may "
                  "be blocked for this site. This is a new, empty session of your own; the earlier one is kept on "
                  "the server. Allow cookies for this site to reopen your sessions after a reload.")


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


def browser_keys(cookie: object) -> list[str]:
    """The browser keys in a cookie value: ``KEY`` or ``KEY.KEY…`` (two tabs opened at once each made one).

    >>> a, b = new_browser_key(), new_browser_key()
    >>> browser_keys(f"{a}.{b}") == [a, b], browser_keys("junk"), browser_keys(None)
    (True, [], [])
    """
    if not isinstance(cookie, str):
        return []
    return [k for k in cookie.split(".") if is_browser_key(k)][:MAX_KEYS]


def _recorded(sessions_root: Path, session_id: str) -> list[str]:
    owner = read_json(session_folder(sessions_root, session_id) / OWNER_FILE, {}) or {}
    if not isinstance(owner, dict):
        return []
    digests = [owner.get("key_sha256"), *(owner.get("also_sha256") or [])]
    return [d for d in digests if isinstance(d, str)]


def claim(sessions_root: Path, session_id: str, key: str, also: Sequence[str] = ()) -> None:
    """Record ``key``'s browser as the owner of a session (``also``: more keys of the same browser)."""
    folder = session_folder(sessions_root, session_id)
    extra = sorted({_digest(k) for k in also if k != key})
    atomic_write_json(folder / OWNER_FILE, {"key_sha256": _digest(key), **({"also_sha256": extra} if extra else {})})


def owns(sessions_root: Path, session_id: str, key: str) -> bool:
    """True when ``session_id`` is a real id whose recorded owner is ``key`` (constant-time compare)."""
    if not is_session_id(session_id) or not is_browser_key(key):
        return False
    digest = _digest(key)
    return any(hmac.compare_digest(recorded, digest) for recorded in _recorded(sessions_root, session_id))


def _adopt(sessions_root: Path, session_id: str, keys: Sequence[str]) -> None:
    """Record every key of this browser's cookie as an owner too (keys already recorded stay)."""
    recorded = _recorded(sessions_root, session_id)
    new = [d for d in (_digest(k) for k in keys) if d not in recorded]
    if new and recorded:
        atomic_write_json(session_folder(sessions_root, session_id) / OWNER_FILE,
                          {"key_sha256": recorded[0], "also_sha256": sorted({*recorded[1:], *new})})


def resolve_session(sessions_root: Path, asked: str | None, key: str | Sequence[str],
                    cookie_sent: bool = True) -> tuple[str, str | None]:
    """The session a browser with ``key`` (or its cookie's keys, the first one new sessions record) gets for the
    URL's ``?sid=`` value ``asked``.

    Returns ``(session_id, note)``: the asked id when this browser owns it (``note`` None; every key of the
    cookie is then recorded, so a second tab's key opens it too), else a new session this browser owns, with a
    note that says why the link did not open. ``cookie_sent=False``: the browser sent no key at all (cookies
    blocked, or a first visit), and the note says so instead of blaming another browser.
    """
    keys = [key] if isinstance(key, str) else list(key)
    if asked and any(owns(sessions_root, asked, k) for k in keys):
        _adopt(sessions_root, asked, keys)
        return asked, None
    session_id = new_session_id()
    claim(sessions_root, session_id, keys[0], keys[1:])
    if not asked:
        return session_id, None
    if is_session_id(asked) and (Path(sessions_root) / asked).is_dir():
        if not cookie_sent:
            return session_id, NO_COOKIE_NOTE
        return session_id, ("That link opens a session that belongs to another browser, so this is a new, "
                            "empty session of your own. Sessions reopen only in the browser that made them.")
    return session_id, "That link's session id is not valid, so this is a new, empty session of your own."


# --- the sessions a server holds: listed for the teacher, empty ones swept -------------------------

BOOKKEEPING = {OWNER_FILE, "settings.json", "upload-names.json"}  # files every session has; anything else is the learner's data


@dataclass(frozen=True)
class SessionInfo:
    id: str
    files: int  # the learner's files (uploads, runs, adapters, caches), bookkeeping left out
    bytes: int
    modified: float  # newest file's mtime

    @property
    def has_data(self) -> bool:
        return self.files > 0


def session_info(sessions_root: Path, session_id: str) -> SessionInfo:
    folder = session_folder(sessions_root, session_id)
    files = [p for p in folder.rglob("*") if p.is_file()]
    data = [p for p in files if p.relative_to(folder).as_posix() not in BOOKKEEPING]
    stamps = [p.stat().st_mtime for p in files] or [folder.stat().st_mtime]
    return SessionInfo(session_id, len(data), sum(p.stat().st_size for p in data), max(stamps))


def list_sessions(sessions_root: Path) -> list[SessionInfo]:
    """Every session folder, newest first."""
    root = Path(sessions_root)
    ids = [p.name for p in root.iterdir() if p.is_dir() and is_session_id(p.name)] if root.is_dir() else []
    return sorted((session_info(root, i) for i in ids), key=lambda s: -s.modified)


def sweep_empty_sessions(sessions_root: Path, max_age_s: float, keep: Sequence[str] = (),
                         now: float | None = None) -> list[str]:
    """Delete session folders with no data untouched for ``max_age_s`` (a visit whose browser never came back);
    sessions with data, and those in ``keep`` (open now), stay. Returns the ids deleted.
    """
    now = time.time() if now is None else now
    gone = []
    for info in list_sessions(sessions_root):
        if not info.has_data and info.id not in keep and now - info.modified > max_age_s:
            shutil.rmtree(session_folder(sessions_root, info.id), ignore_errors=True)
            gone.append(info.id)
    return gone


def delete_session(sessions_root: Path, session_id: str) -> None:
    """The teacher's delete: the whole folder (uploads, runs, adapters) goes."""
    shutil.rmtree(session_folder(sessions_root, session_id), ignore_errors=True)
