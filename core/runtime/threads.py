"""How many CPU threads torch uses for small-model work.

On a 2-core laptop that also runs a browser (or other users' sessions), a small model's
ops are so short that two threads spend their time waiting on each other's busy core:
measured 4–25× slower steps and tokens than one thread when the cores were shared.

With torch's OpenMP backend the count is per thread (tests/core/runtime/test_threads.py), so a block on a
session's script thread and a LoRA job on the job worker's thread do not undo each other.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import torch

SMALL_MODEL_PARAMS = 200_000_000  # below this, per-op work is too small to split across threads


def few_core_threads() -> int:
    """1 on machines with ≤ 2 cores, else 0 (= leave torch's default)."""
    return 1 if (os.cpu_count() or 1) <= 2 else 0


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads (0 = unchanged), restoring the previous count."""
    before = torch.get_num_threads()
    if not n or n == before:  # nothing to change (the common case once one thread is the norm)
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
