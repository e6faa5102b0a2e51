"""Before a hub download: is the model hub reachable at all? A quick answer instead of half a minute of retries.

``check_hub(name)`` raises ``ModelUnavailable`` within a few seconds when ``name`` is a hub id that is not
in the local cache and the hub cannot be reached; a cached model, a local folder or offline mode pass.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from core.errors import ModelUnavailable

REACH_TIMEOUT_S = 3.0


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_reachable(timeout: float = REACH_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the hub's host opens within ``timeout`` seconds (DNS failure = no)."""
    url = urlparse(hub_endpoint())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def cached_locally(name: str) -> bool:
    """Whether the hub cache already holds ``name``'s config (then loading needs no network)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # noqa: BLE001 - a malformed id is simply not cached
        return False


def check_hub(name: str) -> None:
    """Raise ModelUnavailable at once when ``name`` would need the hub and the hub cannot be reached."""
    offline = any(os.environ.get(v, "").strip().lower() in {"1", "true", "yes", "on"}
                  for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    if offline or Path(name).expanduser().exists() or cached_locally(name):
        return  # offline mode and local models: the loader explains what is missing
    if not hub_reachable():
        raise ModelUnavailable(
            f"The model hub ({urlparse(hub_endpoint()).hostname}) cannot be reached from this machine, and "
            f"{name!r} is not in the local cache. Connect to the internet once to download it, or give a local "
            "folder that holds the model.")
