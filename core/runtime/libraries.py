"""The model libraries, loaded once per process: a lock for transformers' first import, and numba's
compiled-code cache for UMAP.

Low-level helpers that ``rag`` and ``llm`` call before they load a model; the warm-up that runs every slow
first-time step (``core.warmup``) sits at the top, beside the CLI.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

NUMBA_DIR = "numba-cache"
_IMPORT_LOCK = threading.Lock()
_imported = False


def numba_cache_dir(root: Path) -> Path:
    """Where numba keeps compiled code between processes (inside the workspace, never watched)."""
    return Path(root) / NUMBA_DIR


def set_numba_cache(root: Path) -> None:
    """Point numba's persistent cache into the workspace unless the user chose a folder (before numba loads)."""
    os.environ.setdefault("NUMBA_CACHE_DIR", str(numba_cache_dir(root)))


def import_model_libraries() -> None:
    """Import the model libraries once, one thread at a time, before any session loads a model.

    transformers 5 looks its classes up lazily on first use, and two threads doing that first lookup
    at once can fail: on a freshly started server, two sessions loading the embedder and the generator
    together got ``ImportError: cannot import name 'AutoConfig' from 'transformers'``
    (tests/browser/test_reliability.py). The embedder and generator loaders call this first (so a page
    that loads no model, like the Overview, does not wait for it); after the first call it returns at once.
    """
    global _imported
    if _imported:
        return
    with _IMPORT_LOCK:
        if not _imported:
            import peft  # noqa: F401  (each of these imports transformers)
            import sentence_transformers  # noqa: F401
            from transformers import (  # noqa: F401
                AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, PreTrainedTokenizerFast,
            )

            _imported = True


def keep_umap_kernels() -> int:
    """Let numba keep UMAP's own kernels on disk too; returns how many were switched on.

    umap-learn compiles most of its kernels with ``numba.njit()`` and no ``cache=True``, so every new process
    compiled them again (20-70 s on 2 cores) whatever ``NUMBA_CACHE_DIR`` said; only pynndescent's were kept.
    Switching numba's file cache on for the kernels not compiled yet lets the next process load them in about
    a second. Calling it again switches nothing more.
    """
    import sys

    import umap  # noqa: F401  (loads the modules whose kernels are switched)
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    switched = 0
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("umap", "pynndescent") and module is not None:
            for kernel in list(vars(module).values()):
                if isinstance(kernel, Dispatcher) and isinstance(kernel._cache, NullCache):
                    kernel.enable_caching()
                    switched += 1
    return switched
