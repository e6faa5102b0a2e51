"""The server-wide bounds on what one input may cost: one home for every limit, read from env vars.

WHY: a shared workshop server must not let one small input take the whole machine. A 20,000-word
answer made one training step grow past 23 GB (attention memory grows with the square of the
length); 20,000 nested ``<div>`` s held a core for minutes. Each bound below has a default that fits
a 2-core laptop class server and an env var a teacher sets to raise it (documented in docs/limits.md).

>>> Limits().example_tokens
512
>>> Limits.from_env({"RAGFT_MAX_EXAMPLE_TOKENS": "1024"}).example_tokens
1024
>>> Limits.from_env({"RAGFT_MAX_EXAMPLE_TOKENS": "lots"})
Traceback (most recent call last):
core.errors.ConfigError: RAGFT_MAX_EXAMPLE_TOKENS must be a whole number ≥ 1 (got 'lots')
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Mapping

from core.errors import ConfigError

# field name → the env var that sets it (a teacher raises a bound by starting the server with it)
ENV = {
    "example_tokens": "RAGFT_MAX_EXAMPLE_TOKENS",
    "qa_rows": "RAGFT_MAX_QA_ROWS",
    "document_chars": "RAGFT_MAX_DOCUMENT_CHARS",
    "html_tags": "RAGFT_MAX_HTML_TAGS",
    "job_memory_mb": "RAGFT_MAX_JOB_MEMORY_MB",
    "empty_session_hours": "RAGFT_EMPTY_SESSION_HOURS",
    "passcode_failures": "RAGFT_PASSCODE_FAILURES",
}


@dataclass(frozen=True)
class Limits:
    """What one input may cost. Every field is a whole number ≥ 1."""

    # Tokens of one training example (prompt + answer). Memory of a step grows with its square:
    # 512 tokens keep one step of the 135M English model well under 1 GB.
    example_tokens: int = 512
    # Rows of one Q&A set (upload or file): each row is tokenised, trained and asked.
    qa_rows: int = 5_000
    # Characters of one document once its text is extracted (about 300 pages of prose).
    document_chars: int = 1_000_000
    # Tags of one HTML file: parsing is linear, but each tag costs memory in the parse tree.
    html_tags: int = 200_000
    # Peak resident memory one training job may reach (measured before it starts), in MB.
    job_memory_mb: int = 4_096
    # An abandoned session folder with no data (no upload, run or adapter) is deleted after this long.
    empty_session_hours: int = 24
    # Wrong teacher passcodes one client may type before it must wait (the wait doubles with each).
    passcode_failures: int = 3

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{ENV[f.name]} must be a whole number ≥ 1 (got {value!r})")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Limits":
        """The defaults, with each limit an env var sets replaced (ConfigError for a bad value)."""
        environ = os.environ if environ is None else environ
        values = {}
        for name, var in ENV.items():
            raw = (environ.get(var) or "").strip()
            if raw:
                try:
                    values[name] = int(raw.replace("_", ""))
                except ValueError:
                    raise ConfigError(f"{var} must be a whole number ≥ 1 (got {raw!r})") from None
        return cls(**values)

    def rows(self) -> list[dict]:
        """The limits as a table for the docs and the UI: setting, value, env var."""
        return [{"limit": f.name.replace("_", " "), "value": getattr(self, f.name), "env var": ENV[f.name]}
                for f in dataclasses.fields(self)]


def limits() -> Limits:
    """The limits this process runs under (read each time: a test or a teacher may change the env)."""
    return Limits.from_env()


def raise_hint(field: str) -> str:
    """The sentence every over-limit message ends with: who can raise the bound, and how."""
    return f"A teacher can raise this limit with {ENV[field]} (see docs/limits.md)."


def job_memory_refusal(peak_mb: float) -> str | None:
    """Why a training job must not start (its measured peak memory is over the limit), or None when it fits.

    >>> job_memory_refusal(900.0) is None
    True
    """
    most = limits().job_memory_mb
    if peak_mb <= most:
        return None
    return (f"This run would peak at about {peak_mb:,.0f} MB (measured by one step here); this server allows "
            f"{most:,} MB per training job. Use fewer examples per micro-batch, a smaller rank or shorter "
            f"examples. {raise_hint('job_memory_mb')}")
