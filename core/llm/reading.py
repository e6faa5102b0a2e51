"""How the Lab reads passages with one model: chunks per prompt, sentence focus, copy decoding, prompt layout.

These are a model's reading settings, kept as data in its profile (``models/<name>/lab.json``,
key ``"reading"``) and attached to the loaded ``Generator`` as ``gen.reading``; the answers, the
Prompt page and the CLI read them from there, never from a model's name. A model without them
gets the Lab's rules (``core.answering.default_k`` and friends).

>>> r = Reading.from_dict({"k": 1, "focus": 0, "copy": True, "copy_unit": "span",
...                        "prompt": {"context_in": "user", "question": "{question} Answer briefly."}})
>>> r.prompt.context_in, r.copy_unit, r.to_dict()["prompt"]["question"]
('user', 'span', '{question} Answer briefly.')
>>> Reading(copy_unit="word")
Traceback (most recent call last):
core.errors.ConfigError: copy_unit must be one of sentence, span (got 'word')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.errors import ConfigError, check_numbers
from core.llm.prompting import PromptStyle

COPY_UNITS = ("sentence", "span")  # a copy starts and ends at sentence bounds, or at any word (core.llm.copying)
MAX_K = 20


@dataclass(frozen=True)
class Reading:
    k: int = 0  # chunks per RAG prompt; 0 = the Lab's rule (core.answering.default_k)
    focus: int = 0  # sentences kept by sentence focus (core.rag.focus); 0 = the whole chunks
    copy: bool = False  # copy decoding: every answer token continues a verbatim copy of a passage
    copy_unit: str = "sentence"  # what a copy may start and end on: "sentence" bounds, or any word ("span")
    prompt: PromptStyle = field(default_factory=PromptStyle)  # where the passages go, how the question is asked

    def __post_init__(self) -> None:
        from core.rag.focus import check_focus

        check_numbers(whole={"k": self.k})
        check_focus(self.focus)
        if not 0 <= self.k <= MAX_K:
            raise ConfigError(f"k must be 0 (the Lab's rule) to {MAX_K} chunks (got {self.k})")
        if not isinstance(self.copy, bool):
            raise ConfigError(f"copy must be true or false (got {self.copy!r})")
        if self.copy_unit not in COPY_UNITS:
            raise ConfigError(f"copy_unit must be one of {', '.join(COPY_UNITS)} (got {self.copy_unit!r})")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Reading":
        """From a profile's ``reading`` entry; unknown keys raise ConfigError (a typo must not pass silently)."""
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"unknown reading settings: {', '.join(unknown)}")
        prompt = d.get("prompt") or {}
        bad = sorted(set(prompt) - set(PromptStyle.__dataclass_fields__))
        if bad:
            raise ConfigError(f"unknown prompt settings: {', '.join(bad)}")
        return cls(**{**d, "prompt": PromptStyle(**prompt)})


def reading_of(gen) -> Reading | None:
    """The reading settings attached to a generator (from its model's profile), or None."""
    reading = getattr(gen, "reading", None)
    return reading if isinstance(reading, Reading) else None


def prompt_style(gen) -> PromptStyle | None:
    """The prompt layout ``gen``'s model reads best (None: the Lab's default layout)."""
    reading = reading_of(gen)
    return reading.prompt if reading else None
