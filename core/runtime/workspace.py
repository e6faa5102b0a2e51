"""The workspace: one folder where everything a user made persists.

Uploads, embedding caches, indexes, adapters and run metrics live here so
that nothing is lost across reruns and restarts. Writes are atomic (write to
a temporary file, then ``os.replace``) so a crash never leaves half a file. Several web
servers may share one workspace folder: a read-modify-write of a shared file (``update_json``)
holds an ``fcntl`` lock on a side file, so two servers never lose each other's update.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

ENV_VAR = "RAGFT_WORKSPACE"
DEFAULT_ROOT = Path("workspace")
MAX_STEM, MAX_SUFFIX = 120, 16  # characters: well under a file system's 255 bytes even in 3-byte scripts
SUBDIRS = ("uploads", "embeddings", "indexes", "adapters", "runs", "corpora", "questions")


def default_root() -> Path:
    """``$RAGFT_WORKSPACE`` if set, else ``./workspace`` under the current folder."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_ROOT).expanduser()


@dataclass(frozen=True)
class Workspace:
    """A folder with one sub-folder per kind of artefact."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).expanduser().resolve())
        for name in SUBDIRS:
            (self.root / name).mkdir(parents=True, exist_ok=True)

    def path(self, kind: str, *parts: str) -> Path:
        """A path under one of ``SUBDIRS``; ``parts`` are sanitised file names."""
        if kind not in SUBDIRS:
            raise ValueError(f"unknown workspace area {kind!r}; expected one of {SUBDIRS}")
        return self.root.joinpath(kind, *(safe_name(p) for p in parts))

    def session(self, session_id: str) -> "Workspace":
        """A private sub-workspace so that users of one server never see each other's files."""
        return Workspace(self.root / "sessions" / safe_name(session_id))


def safe_name(name: str) -> str:
    """A file-system-safe version of a user-given name (no separators, no dot-dot) that keeps its data:
    letters of any script stay, and the extension survives even when the stem is all symbols.

    >>> safe_name("日本語.txt"), safe_name("a b.txt"), safe_name("../!!.md"), safe_name("..")
    ('日本語.txt', 'a_b.txt', 'unnamed.md', 'unnamed')
    """
    base = unicodedata.normalize("NFC", Path(str(name)).name)
    stem, suffix = os.path.splitext(base)
    stem = re.sub(r"[^\w.+-]+", "_", stem).strip("._")[:MAX_STEM] or "unnamed"
    suffix = re.sub(r"[^\w]+", "", suffix[1:])[:MAX_SUFFIX]
    return f"{stem}.{suffix}" if suffix else stem


NAMES_FILE = "upload-names.json"  # beside an uploads folder: stored name → the name the user gave


def upload_name(folder: Path, name: str, data: bytes) -> str:
    """The name an upload is stored under in ``folder``: ``safe_name(name)``, unless that file holds another upload.

    The same name again (a corrected version) replaces its file; a different name that cleans to a taken
    one (``a b.txt`` after ``a_b.txt``) gets ``-2``, ``-3`` … before its extension, so no upload's data
    is lost. The given names are kept in ``.names.json`` beside the files.
    """
    folder = Path(folder)
    names = read_json(folder.parent / NAMES_FILE, {}) or {}
    stem, suffix = os.path.splitext(safe_name(name))
    candidate, n = stem + suffix, 1
    while (folder / candidate).exists() and names.get(candidate) != name and (folder / candidate).read_bytes() != data:
        n += 1
        candidate = f"{stem}-{n}{suffix}"
    return candidate


def store_upload(folder: Path, stored: str, name: str, data: bytes) -> Path:
    """Write an upload under the name ``upload_name`` gave, and remember the name the user gave."""
    folder = Path(folder)
    atomic_write_bytes(folder / stored, data)
    names = folder.parent / NAMES_FILE
    atomic_write_json(names, {**(read_json(names, {}) or {}), stored: name})
    return folder / stored


def content_hash(*parts: str | bytes) -> str:
    """A short, stable hash of some text or bytes, used as a cache key."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so readers see either the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def replace_folder(new: Path, folder: Path) -> None:
    """Put the complete folder ``new`` where ``folder`` is: the old one is renamed aside, then removed."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        os.replace(folder, old)
    os.replace(new, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def atomic_write_json(path: Path, obj: Any) -> Path:
    return atomic_write_bytes(path, json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8"))


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return default


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock for ``path`` (on ``.<name>.lock`` beside it) across processes.

    POSIX record locks work between servers on one host and on NFS v4 volumes; the kernel drops a
    lock whose process died, so a crashed server never leaves the file locked.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "a+b") as handle:
        fcntl.lockf(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(handle, fcntl.LOCK_UN)


def update_json(path: Path, change: Callable[[Any], Any], default: Any = None) -> Any:
    """Read ``path``, apply ``change`` to its value and write the result atomically, under ``locked(path)``.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "n.json"
    >>> update_json(p, lambda d: {**d, "a": 1}, {}), update_json(p, lambda d: {**d, "b": 2}, {})
    ({'a': 1}, {'a': 1, 'b': 2})
    """
    with locked(path):
        value = change(read_json(path, default))
        atomic_write_json(path, value)
        return value


def hold_lock(path: Path):
    """Lock ``path`` for as long as the returned handle is open (a live job's ``.job.lock``), so other
    processes over this folder see that work as live; a lock another process already holds is not waited for."""
    handle = open(path, "a+b")
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # another server already holds it (a retry racing a live run): keep going, unlocked
        pass
    return handle


def release_lock(handle) -> None:
    if handle is not None:
        handle.close()  # closing drops the lock


def held_elsewhere(path: str | Path) -> bool:
    """True when another process (another web server over this workspace) holds the lock on ``path``."""
    path = Path(path)
    if not path.exists():
        return False
    with open(path, "a+b") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(handle, fcntl.LOCK_UN)
        return False
