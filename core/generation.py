"""Load a causal language model and generate answers (greedy or sampled, with streaming).

``load_generator()`` returns the Lab's built-in tiny model (``models/lab-tiny-lm``);
``load_generator("some/hub-id")`` or ``load_generator("/a/local/folder")`` go
through the same code path. Loaded generators are cached and shared: never
change their weights in place (copy the model, e.g. before attaching a LoRA
adapter, or call ``load_generator(..., cache=False)`` for a private copy).
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from core.errors import ConfigError, ModelUnavailable
from core.threads import SMALL_MODEL_PARAMS, few_core_threads, torch_threads

BUILTIN_NAME = "lab-tiny-lm"
BUILTIN_PATH = Path(__file__).resolve().parent.parent / "models" / BUILTIN_NAME

_CACHE: dict[str, "Generator"] = {}
_LOCK = threading.Lock()


@dataclass
class Generator:
    model: object
    tokenizer: object
    name: str
    is_builtin: bool
    n_params: int
    context_window: int


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    settings: dict = field(default_factory=dict)

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.latency_s if self.latency_s > 0 else 0.0


@functools.lru_cache(maxsize=None)
def _takes_logits_to_keep(model_cls: type) -> bool:
    """Current transformers causal LMs accept ``logits_to_keep``; an older or custom one may not."""
    params = inspect.signature(model_cls.forward).parameters
    return "logits_to_keep" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in {"1", "true", "yes", "on"}
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


# Files a causal LM does not need: other frameworks' weights and exports.
_SKIP_FILES = ["*.onnx", "onnx/*", "*.h5", "*.msgpack", "*.tflite", "*.ot", "*.gguf", "original/*", "*.mlmodel",
               "coreml/*", "openvino/*"]


@dataclass
class DownloadProgress:
    """Bytes fetched so far, written by the downloader's threads and read by whoever shows it."""
    done: int = 0
    total: int = 0

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


def _download(name: str, progress: DownloadProgress) -> str:
    """Fetch a hub model's files into the hub cache, counting bytes; returns the local snapshot folder.

    Later loads find the same cache (offline too), exactly as ``from_pretrained(name)`` would.
    """
    from huggingface_hub import list_repo_files, snapshot_download
    from huggingface_hub.utils import tqdm as hub_tqdm

    lock = threading.Lock()

    class Counting(hub_tqdm):  # the hub's own bar, also counting into ``progress``
        # Counts on its own: a bar tqdm disables (stderr not a terminal, HF_HUB_DISABLE_PROGRESS_BARS)
        # keeps neither ``n`` nor ``unit``/``desc``, and the download threads update it concurrently.
        def __init__(self, *args, **kwargs):
            self._counts = kwargs.get("unit") == "B" and not str(kwargs.get("desc", "")).startswith("Reconstruct")
            self._fetched = int(kwargs.get("initial") or 0)
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            out = super().update(n)
            if self._counts:  # bytes fetched
                with lock:
                    self._fetched += int(n or 0)
                    progress.done, progress.total = self._fetched, max(int(self.total or 0), self._fetched)
            return out

    files = list_repo_files(name)
    skip = list(_SKIP_FILES)
    if any(f.endswith(".safetensors") for f in files):  # safetensors present: the .bin copies are not needed
        skip += ["*.bin", "*.pth", "*.pt"]
    return snapshot_download(name, ignore_patterns=skip, tqdm_class=Counting)


def _explain(name: str, exc: BaseException, is_local: bool) -> str:
    chain, e = [], exc
    while e is not None and len(chain) < 6:
        chain.append(f"{type(e).__name__}: {e}")
        e = e.__cause__ or e.__context__
    text = " | ".join(chain).lower()
    if is_local:
        return (f"could not load a model from the folder {name}: its files are missing or damaged "
                f"({type(exc).__name__}). The folder needs config.json, the weights (model.safetensors) "
                "and the tokenizer files; save it with save_pretrained() or pick another folder.")
    if _offline():
        return (f"could not load {name}: offline mode is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE) and the "
                "model is not in the local cache. Turn offline mode off and connect to the internet once, or give "
                "a local folder.")
    if any(s in text for s in ("repositorynotfound", "404", "not a valid model identifier", "is not a local folder")):
        if not any(s in text for s in ("connect", "resolve", "unreachable", "timed out", "max retries")):
            return (f"could not find a model named {name} on the model hub. Check the spelling "
                    "(e.g. 'HuggingFaceTB/SmolLM2-135M-Instruct'), or give a local folder.")
    if any(s in text for s in ("connect", "resolve", "unreachable", "timed out", "max retries",
                               "offline", "network", "localentrynotfound")):
        return (f"could not download {name}: the model hub is unreachable. "
                "Connect to the internet once, or give a local folder.")
    return f"could not load {name}: {type(exc).__name__}: {exc}. Give another model name or a local folder."


def _load(name: str, path: str, is_builtin: bool, is_local: bool,
          progress: DownloadProgress | None = None) -> Generator:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {"local_files_only": True} if (is_local or _offline()) else {}
    try:
        if progress is not None and not kwargs:  # a hub model, online: fetch it first, counting bytes
            path, kwargs = _download(name, progress), {"local_files_only": True}
        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure becomes an actionable message
        if is_builtin:
            raise ModelUnavailable(
                f"the built-in model files at {path} are missing or damaged. Reinstall the Lab, or rebuild "
                "them with: python -m core.lm.train --out models/lab-tiny-lm") from exc
        raise ModelUnavailable(_explain(name, exc, is_local)) from exc
    model.eval()
    if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
        tokenizer.pad_token = tokenizer.eos_token
    cfg = model.config
    window = getattr(cfg, "max_position_embeddings", None) or getattr(tokenizer, "model_max_length", 2048)
    return Generator(model=model, tokenizer=tokenizer, name=name, is_builtin=is_builtin,
                     n_params=sum(p.numel() for p in model.parameters()), context_window=int(min(window, 10**6)))


def load_generator(name_or_path: str | None = None, *, cache: bool = True,
                   progress: DownloadProgress | None = None) -> Generator:
    """The built-in model (default), a hub id, or a local model folder.

    A hub model not yet in the cache is downloaded once; ``progress`` (optional) counts its
    bytes as they arrive, so a page can show a progress bar. Raises ``ModelUnavailable`` with
    an actionable message when the model cannot be loaded.
    """
    name = (name_or_path or "").strip() or BUILTIN_NAME
    is_builtin = name in {BUILTIN_NAME, "builtin", "built-in"}
    if is_builtin:
        name, path, is_local = BUILTIN_NAME, str(BUILTIN_PATH), True
        if not (BUILTIN_PATH / "config.json").exists():
            raise ModelUnavailable(
                f"the built-in model files are missing at {BUILTIN_PATH}. Reinstall the Lab, or rebuild "
                "them with: python -m core.lm.train --out models/lab-tiny-lm")
    else:
        p = Path(name).expanduser()
        is_local = p.exists() or name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name
        if is_local and not p.is_dir():
            raise ModelUnavailable(f"there is no model folder at {name}. Give the folder that holds "
                                   "config.json and the weights, or a model hub id such as 'org/model'.")
        path = str(p.resolve()) if is_local else name
    key = path
    with _LOCK:
        if cache and key in _CACHE:
            return _CACHE[key]
        gen = _load(name, path, is_builtin, is_local, progress)
        if cache:
            _CACHE[key] = gen
        return gen


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def render_prompt(gen: Generator, messages_or_prompt: str | list[dict]) -> str:
    """Prompt text: a string is used as-is; messages go through the chat template (if any)."""
    if isinstance(messages_or_prompt, str):
        return messages_or_prompt
    tok = gen.tokenizer
    if getattr(tok, "chat_template", None):
        return tok.apply_chat_template(messages_or_prompt, add_generation_prompt=True, tokenize=False)
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages_or_prompt]
    return "\n".join(lines) + "\nAssistant:"


def count_tokens(gen: Generator, messages_or_prompt: str | list[dict]) -> int:
    return len(gen.tokenizer(render_prompt(gen, messages_or_prompt), add_special_tokens=False)["input_ids"])


def _pick(logits: torch.Tensor, temperature: float, top_k: int, top_p: float, rng: torch.Generator) -> int:
    if temperature <= 0:
        return int(torch.argmax(logits))
    logits = logits / temperature
    if top_k and top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if top_p < 1.0:
        sp, si = torch.sort(probs, descending=True)
        keep = torch.cumsum(sp, 0) - sp < top_p
        keep[0] = True
        probs = torch.zeros_like(probs).scatter(0, si[keep], sp[keep])
        probs = probs / probs.sum()
    return int(torch.multinomial(probs, 1, generator=rng))


def generate(
    gen: Generator,
    messages_or_prompt: str | list[dict],
    *,
    max_new_tokens: int = 48,
    temperature: float = 0.0,
    top_k: int = 0,
    top_p: float = 1.0,
    on_token: Callable[[str], None] | None = None,
    stop: list[str] | None = None,
    seed: int = 0,
    ignore_eos: bool = False,
) -> Generation:
    """Generate a completion; greedy when ``temperature == 0``.

    ``messages_or_prompt``: chat messages (rendered with the chat template) or raw prompt text.
    ``on_token`` receives each new piece of text as it is produced (streaming).
    ``stop``: strings that end the completion (not included in the text).
    ``ignore_eos``: keep going past end-of-text (for speed measurements).
    """
    if max_new_tokens < 1:
        raise ConfigError("max_new_tokens must be at least 1.")
    if temperature < 0 or not 0 < top_p <= 1 or top_k < 0:
        raise ConfigError("temperature must be ≥ 0, top_p in (0, 1] and top_k ≥ 0.")
    tok, model = gen.tokenizer, gen.model
    prompt = render_prompt(gen, messages_or_prompt)
    add_special = isinstance(messages_or_prompt, str) and not prompt.startswith(tok.bos_token or "\0")
    ids = tok(prompt, add_special_tokens=add_special)["input_ids"]
    if len(ids) + max_new_tokens > gen.context_window:
        raise ConfigError(
            f"the prompt has {len(ids)} tokens and {max_new_tokens} new tokens were asked for, but "
            f"{gen.name} reads at most {gen.context_window} tokens. Use fewer or shorter context chunks.")
    eos_ids = set()
    for src in (getattr(model, "generation_config", None), model.config, tok):
        e = getattr(src, "eos_token_id", None)
        eos_ids.update(e if isinstance(e, (list, tuple)) else [e] if e is not None else [])
    stop = [s for s in (stop or []) if s]
    rng = torch.Generator().manual_seed(seed)
    settings = {"max_new_tokens": max_new_tokens, "temperature": temperature, "top_k": top_k,
                "top_p": top_p, "stop": stop, "seed": seed, "greedy": temperature <= 0, "model": gen.name}
    t0 = time.perf_counter()
    out_ids: list[int] = []
    text, emitted = "", 0
    threads = few_core_threads() if gen.n_params < SMALL_MODEL_PARAMS else 0
    with torch.inference_mode(), torch_threads(threads):
        input_ids = torch.tensor([ids])
        past = None
        keep_last = {"logits_to_keep": 1} if _takes_logits_to_keep(type(model)) else {}  # skip unused logits
        for _ in range(max_new_tokens):
            out = model(input_ids=input_ids, past_key_values=past, use_cache=True, **keep_last)
            past = out.past_key_values
            nxt = _pick(out.logits[0, -1].float(), temperature, top_k, top_p, rng)
            if nxt in eos_ids and not ignore_eos:
                break
            out_ids.append(nxt)
            input_ids = torch.tensor([[nxt]])
            if on_token is None and not stop:
                continue  # decode once at the end
            text = tok.decode(out_ids, skip_special_tokens=True)
            hit = min((text.find(s) for s in stop if s in text), default=-1)
            if hit >= 0:
                text = text[:hit]
            safe = len(text) if hit >= 0 else len(text.rstrip("\ufffd"))
            if on_token is not None and safe > emitted:
                on_token(text[emitted:safe])
                emitted = safe
            if hit >= 0:
                break
        if on_token is None and not stop:
            text = tok.decode(out_ids, skip_special_tokens=True)
    latency = time.perf_counter() - t0
    return Generation(text=text.strip(), prompt_tokens=len(ids), completion_tokens=len(out_ids),
                      latency_s=latency, settings=settings)
