"""The workspace: one folder where everything a user made persists.

Uploads, embedding caches, indexes, adapters and run metrics live here so
that nothing is lost across reruns and restarts. Writes are atomic (write to
a temporary file, then ``os.replace``) so a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_VAR = "RAGFT_WORKSPACE"
DEFAULT_ROOT = Path("workspace")
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
    """A file-system-safe version of a user-given name (no separators, no dot-dot)."""
    cleaned = re.sub(r"[^A-Za-z0-9._+-]+", "_", Path(str(name)).name).strip("._")
    return cleaned or "unnamed"


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


def atomic_write_json(path: Path, obj: Any) -> Path:
    return atomic_write_bytes(path, json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8"))


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return default
