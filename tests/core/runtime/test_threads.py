"""torch_threads: a small-model block runs on the count it asks for, and leaves other threads alone.

This is why overlapping work is safe: with torch's OpenMP backend the count is per thread, so a
generation on one session (its script thread) setting and restoring its count does not change
the count of a LoRA job training on the job worker's thread.
"""

import threading

import torch

from core.runtime.threads import torch_threads


def test_a_block_sets_its_own_threads_count_and_restores_it():
    start = torch.get_num_threads()
    target = 1 if start != 1 else 2
    with torch_threads(target):
        assert torch.get_num_threads() == target
    assert torch.get_num_threads() == start
    with torch_threads(0):  # 0 = leave it alone
        assert torch.get_num_threads() == start


def test_overlapping_blocks_on_two_threads_do_not_undo_each_other():
    start = torch.get_num_threads()
    inside, release, seen = threading.Event(), threading.Event(), []

    def training_job():  # holds 1 thread for a while, like a LoRA run for another session
        with torch_threads(1):
            inside.set()
            release.wait(10)
            seen.append(torch.get_num_threads())

    worker = threading.Thread(target=training_job)
    worker.start()
    assert inside.wait(10)
    with torch_threads(3):  # a block on this thread starts and ends while the job runs
        assert torch.get_num_threads() == 3
    assert torch.get_num_threads() == start
    release.set()
    worker.join(10)
    assert seen == [1]  # the job kept its count through the other block's set and restore
