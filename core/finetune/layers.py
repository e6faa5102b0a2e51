"""Which transformer blocks get LoRA adapters: all of them, or only the upper share.

WHY: the backward pass runs from the loss down to the lowest weight that needs a gradient.
With adapters only on the upper half of the blocks, nothing below needs one, so autograd
stops halfway: a step costs the forward pass plus half a backward pass, and the activations
of the lower half need not be kept. Facts still fit: the upper MLPs have capacity to spare
for twenty sentences (docs/english-model.md measures it).

A model's blocks are the longest ``ModuleList`` of modules that hold adaptable layers
(``model.layers`` in Llama/Qwen, ``transformer.h`` in GPT-2). An encoder-decoder has two such
lists, so it is always adapted whole.

>>> upper_indices(30, 0.5)
[15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]
>>> upper_indices(4, 1.0)
[0, 1, 2, 3]
>>> upper_indices(3, 0.1)   # at least one block
[2]
"""

from __future__ import annotations

import math
import re

import torch

from core.errors import ConfigError


def upper_indices(n_blocks: int, share: float) -> list[int]:
    """The indices of the top ``share`` of ``n_blocks`` blocks (rounded up, at least one)."""
    keep = max(1, min(n_blocks, math.ceil(n_blocks * share - 1e-9)))
    return list(range(n_blocks - keep, n_blocks))


def block_list(model) -> tuple[str, int] | None:
    """(the attribute name of the blocks' ModuleList, e.g. "layers" or "h", and how many blocks), or None."""
    lists = [(name, mod) for name, mod in model.named_modules()
             if isinstance(mod, torch.nn.ModuleList) and len(mod) > 1 and name]
    if not lists:
        return None
    name, mod = max(lists, key=lambda pair: len(pair[1]))
    return name.rsplit(".", 1)[-1], len(mod)


def adapted_layers(model, share: float) -> tuple[list[int] | None, str | None]:
    """(block indices, pattern) for peft's ``layers_to_transform`` / ``layers_pattern``; (None, None) = every block.

    Raises ConfigError when ``share`` < 1 and the model's blocks cannot be found, or it is an
    encoder-decoder (its encoder and decoder blocks share indices).
    """
    from core.llm.loading import is_seq2seq

    if share >= 1:
        return None, None
    found = block_list(model)
    if found is None or is_seq2seq(model):
        raise ConfigError("upper_layers below 1 needs a decoder-only model with one stack of blocks; "
                          "use upper_layers=1 (every block) for this model")
    pattern, n = found
    return upper_indices(n, share), pattern


def block_index(module_name: str, pattern: str) -> int | None:
    """The block a module belongs to, from its name (``model.layers.17.mlp.up_proj`` → 17), else None.

    >>> block_index("model.layers.17.mlp.up_proj", "layers"), block_index("lm_head", "layers")
    (17, None)
    """
    found = re.search(rf"(?:^|\.){re.escape(pattern)}\.(\d+)\.", module_name)
    return int(found.group(1)) if found else None
