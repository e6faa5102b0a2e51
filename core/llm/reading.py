"""How the Lab reads passages with one model: chunks per prompt, sentence focus, copy decoding, prompt layout.

These are fields of the model's profile (``models/<name>/lab.json``: ``k``, ``focus``, ``copy``,
``copy_unit``, ``prompt``); the answers, the Prompt page and the CLI read them from ``gen.profile``,
never from a model's name. ``with_reading`` gives a generator the same model with other reading
settings (the CLI's ``--reading``, the benchmark's variants) without touching the shared one.

>>> from core.llm.profiles import ModelProfile
>>> class Gen: profile = ModelProfile(name="m")
>>> g = with_reading(Gen(), {"k": 2, "copy": True, "prompt": {"context_in": "user", "question": "{question} Briefly."}})
>>> g.profile.k, g.profile.copy, g.profile.prompt.ask("Who?")
(2, True, 'Who? Briefly.')
>>> with_reading(Gen(), {"kk": 1})
Traceback (most recent call last):
core.errors.ConfigError: unknown reading settings: kk (known: k, focus, copy, copy_unit, prompt)
"""

from __future__ import annotations

import copy
import dataclasses

from core.errors import ConfigError

READING_KEYS = ("k", "focus", "copy", "copy_unit", "prompt")


def with_reading(gen, settings: dict):
    """``gen`` with its profile's reading settings replaced by ``settings`` (validated by the profile).

    A shallow copy: the model and tokenizer are shared and never changed, so a cached generator stays as it was.
    """
    from core.llm.profiles import ModelProfile

    unknown = sorted(set(settings) - set(READING_KEYS))
    if unknown:
        raise ConfigError(f"unknown reading settings: {', '.join(unknown)} (known: {', '.join(READING_KEYS)})")
    profile = getattr(gen, "profile", None) or ModelProfile()
    try:
        new = dataclasses.replace(profile, **settings)
    except TypeError as exc:
        raise ConfigError(f"reading settings: {exc}") from exc
    if dataclasses.is_dataclass(gen) and not isinstance(gen, type):
        return dataclasses.replace(gen, profile=new)
    out = copy.copy(gen)
    out.profile = new
    return out
