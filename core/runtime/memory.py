"""Giving memory back: after a model or a finished job is dropped, collect it and return the heap to the OS.

WHY: Python frees the tensors, but glibc's allocator keeps the freed pages for reuse, so a
server's RSS stays at its peak and creeps up as the heap fragments (measured with
``bench/bench_memory.py``). ``malloc_trim(0)`` hands free pages back; elsewhere it is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc


@functools.lru_cache(maxsize=1)
def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_memory() -> None:
    """Collect unreachable objects now, then return free heap pages to the OS (glibc only)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
