"""Model profiles: what the Lab does differently for a model, read from ``lab.json`` beside it, never from its name.

A built-in model keeps its profile in the repo, ``models/<name>/lab.json``: the tiny LM and the
English reader keep their weights there too; the English model (SmolLM2-135M-Instruct) is fetched
into the model cache (``core.llm.fetch``), and its repo profile is copied onto that copy. Any model
folder can be given a profile by writing a ``lab.json`` into it (``save_profile``); a hub model or a
folder without one gets ``ModelProfile()``'s neutral defaults.

>>> load_profile("lab-tiny-lm").reads, load_profile("smollm2-135m-instruct").origin
('world', 'fetch')
>>> load_profile("some-org/some-model").k, load_profile("some-org/some-model").copy
(3, False)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from core.errors import ConfigError
from core.llm.fetch import REPO_MODELS, FetchSpec, fetched_path
from core.llm.prompting import PromptStyle

READS = ("world", "english", "")  # the text a built-in model is chosen for ("" = never chosen by the rule)
ORIGINS = ("repo", "fetch", "hub", "local")  # weights in the repo, fetched into the model cache, hub, a folder
FORGETTING = ("world", "everyday")  # which general questions the forgetting check asks (core.experiments)
PROFILE_FILE = "lab.json"
ALIASES = {"builtin": "lab-tiny-lm", "built-in": "lab-tiny-lm"}  # older names of the default model


@dataclass(frozen=True)
class PresetSpec:
    """A training preset stored in a profile: ``config`` holds ``FinetuneConfig`` fields over its defaults."""

    name: str  # "live" | "quick" | "thorough" | …
    label: str
    why: str  # one sentence for the page, with what it was measured to cost
    config: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ModelProfile:
    """How the Lab uses one model. The defaults are neutral: what any hub model gets."""

    name: str = ""
    label: str = ""  # how pages name it ("the built-in tiny LM"); "" = its name in backticks
    reads: str = ""  # "world" | "english": the text choose_model picks it for (with ``default``)
    default: bool = False  # the model choose_model picks for ``reads`` (one per kind of text)
    chosen_because: str = ""  # ends "…because the text <this>": why choose_model picked it
    k: int = 3  # chunks per RAG prompt (a tiny model copies values from distractors: it gets 1)
    focus: int = 0  # sentence focus: sentences of the retrieved chunks kept (0 = off)
    copy: bool = False  # copy decoding by default (answers copy the passages, core.llm.copying)
    copy_unit: str = "sentence"  # "sentence" | "span": what copy decoding copies
    prompt: PromptStyle = field(default_factory=PromptStyle)  # where the passages go, how the question is asked
    presets: tuple[PresetSpec, ...] = ()  # training presets, the default first; () = chosen by model size
    can: str = ""  # "It <can>." on the pages
    cannot: str = ""  # "It cannot <cannot>."
    how_well: str = ""  # measured accuracy, one or two sentences for the pages
    forgetting: str = "everyday"
    origin: str = "hub"
    rebuild: str = ""  # the command that rebuilds or fetches the weights
    fetch: FetchSpec | None = None  # where fetched weights come from (origin "fetch")

    def __post_init__(self) -> None:
        object.__setattr__(self, "presets", tuple(p if isinstance(p, PresetSpec) else PresetSpec(**p)
                                                  for p in self.presets))
        if isinstance(self.prompt, dict):
            unknown = sorted(set(self.prompt) - set(PromptStyle.__dataclass_fields__))
            if unknown:
                raise ConfigError(f"model profile {self.name or '(unnamed)'}: unknown prompt settings: "
                                  f"{', '.join(unknown)}")
            object.__setattr__(self, "prompt", PromptStyle(**self.prompt))
        if isinstance(self.fetch, dict):
            object.__setattr__(self, "fetch", FetchSpec.from_dict(self.fetch))
        checks = [
            (self.reads in READS, f"reads must be one of 'world', 'english' or '' (got {self.reads!r})"),
            (isinstance(self.k, int) and 1 <= self.k <= 32, f"k must be a whole number from 1 to 32 (got {self.k!r})"),
            (isinstance(self.focus, int) and 0 <= self.focus <= 20,
             f"focus must be a whole number from 0 (off) to 20 (got {self.focus!r})"),
            (self.copy_unit in ("sentence", "span"), f"copy_unit must be 'sentence' or 'span' (got {self.copy_unit!r})"),
            (self.forgetting in FORGETTING, f"forgetting must be 'world' or 'everyday' (got {self.forgetting!r})"),
            (self.origin in ORIGINS, f"origin must be one of {', '.join(ORIGINS)} (got {self.origin!r})"),
            (self.origin != "fetch" or self.fetch is not None, "a fetched model's profile needs a 'fetch' section"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"model profile {self.name or '(unnamed)'}: {message}")

    @property
    def is_builtin(self) -> bool:
        """Ships with the Lab: weights in the repo, or fetched by it."""
        return self.origin in ("repo", "fetch")

    @property
    def title(self) -> str:
        return self.label or f"`{self.name}`"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, **overrides) -> "ModelProfile":
        """A profile from ``lab.json``'s object; keys it does not know are ignored (newer files still load)."""
        known = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in data.items() if k in known}, **overrides})


def profile_of(gen) -> ModelProfile:
    """The profile a loaded generator carries; neutral defaults for anything without one."""
    return getattr(gen, "profile", None) or ModelProfile()


def builtin_names() -> list[str]:
    """The built-in models: every ``models/<name>/`` with a ``lab.json``."""
    return sorted(p.parent.name for p in REPO_MODELS.glob(f"*/{PROFILE_FILE}"))


def builtin_name(name: str | None) -> str | None:
    """``name`` as a built-in model's name (aliases resolved), or None when it is not one."""
    name = ALIASES.get((name or "").strip(), (name or "").strip())
    plain = name and not any(c in name for c in "/\\") and name not in (".", "..")  # a name, never a path
    return name if plain and (REPO_MODELS / name / PROFILE_FILE).is_file() else None


def builtin_folder(name: str) -> Path:
    """Where a built-in model's weights are: in the repo, or (fetched models) in the model cache."""
    return fetched_path(name) if read_profile(REPO_MODELS / name).origin == "fetch" else REPO_MODELS / name


def read_profile(folder: str | Path, name: str = "") -> ModelProfile:
    """The profile in ``folder/lab.json``; a folder without one gets the neutral defaults (origin "local")."""
    path = Path(folder) / PROFILE_FILE
    if not path.is_file():
        return ModelProfile(name=name or Path(folder).name, origin="local")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the model profile {path} is not valid JSON ({exc}); fix or delete it.") from exc
    return ModelProfile.from_dict(data, **({"name": name} if name and not data.get("name") else {}))


def load_profile(name_or_path: str | None) -> ModelProfile:
    """The profile for a built-in name, a model folder (its ``lab.json``) or a hub id (neutral defaults)."""
    builtin = builtin_name(name_or_path) if name_or_path else builtin_name("builtin")
    if builtin:
        return read_profile(REPO_MODELS / builtin)
    path = Path(str(name_or_path)).expanduser()
    if path.is_dir():
        return read_profile(path)
    return ModelProfile(name=str(name_or_path))


def save_profile(profile: ModelProfile, folder: str | Path) -> Path:
    """Give a model folder a profile: write ``lab.json`` into it (``load_profile(folder)`` reads it back)."""
    path = Path(folder) / PROFILE_FILE
    path.write_text(json.dumps(profile.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def default_for(reads: str) -> ModelProfile:
    """The built-in model that ``choose_model`` picks for ``reads`` ("world" or "english")."""
    for name in builtin_names():
        profile = read_profile(REPO_MODELS / name)
        if profile.reads == reads and profile.default:
            return profile
    raise ConfigError(f"no built-in model profile says it reads {reads!r} by default (models/*/lab.json)")
