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
import os
import threading


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


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss / 1e6


class PeakRSS:
    """Samples resident memory on a thread while the ``with`` block runs: ``.peak_mb``, ``.start_mb``.

    Activations live only inside a step, so the peak is sampled (every 5 ms), not read afterwards.
    """

    def __init__(self, every_s: float = 0.005) -> None:
        self.every_s, self.start_mb, self.peak_mb = every_s, 0.0, 0.0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, rss_mb())
            self._stop.wait(self.every_s)

    def __enter__(self) -> "PeakRSS":
        self.start_mb = self.peak_mb = rss_mb()
        self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, rss_mb())
