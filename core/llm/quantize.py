"""int8 dynamic quantization of a generator's linear layers (an option, and a lesson beside fp32).

``torch.ao.quantization.quantize_dynamic`` stores every ``nn.Linear`` weight as int8 with one
scale per output channel and quantizes the activations on the fly, per batch; the embeddings,
norms and the output head stay fp32. On a CPU the matrix products then run in int8 (fbgemm):
fewer bytes read per token, so a memory-bound decoder writes tokens faster, at some cost in
accuracy. ``bench/bench_english_model.py`` measures tokens/s, accuracy and memory beside fp32.

The cached (shared) generator is never changed: the quantized model is built from a copy.

>>> gen8 = int8_generator(load_generator("/work/smollm2-135m-instruct"))   # doctest: +SKIP
>>> gen8.name                                                               # doctest: +SKIP
'smollm2-135m-instruct (int8)'
"""

from __future__ import annotations

import copy
import dataclasses

import torch

INT8_SUFFIX = " (int8)"


def quantize_int8(model):
    """A copy of ``model`` with every Linear layer (the output head excepted) quantized to int8, dynamically."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    private = copy.deepcopy(model)
    head = getattr(private, "lm_head", None)
    if head is not None:  # tied to the embeddings in most small models: keep it fp32 (and keep the tie)
        private.lm_head = torch.nn.Identity()
    # per output channel: one scale per row keeps a small model's outliers (a per-tensor scale measured RAG 3/20
    # instead of fp32's 14/20 on the held-out English set); in place: the private copy is the only one kept
    quantized = quantize_dynamic(private, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8,
                                 inplace=True)
    if head is not None:
        quantized.lm_head = head if not _tied(model) else _tied_head(quantized, head)
    quantized.eval()
    return quantized


def _tied(model) -> bool:
    head, emb = getattr(model, "lm_head", None), model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    return head is not None and emb is not None and head.weight is emb.weight


def _tied_head(quantized, head):
    """The copy's head, tied again to the copy's embeddings (deepcopy kept the tie; swapping the head broke it)."""
    head.weight = quantized.get_input_embeddings().weight
    return head


def int8_generator(gen):
    """``gen`` with its model quantized to int8 (a new Generator; ``gen`` is unchanged)."""
    if getattr(gen, "is_seq2seq", False):
        from core.errors import ConfigError

        raise ConfigError("int8 quantization is offered for decoder-only models; this one is an encoder-decoder")
    if str(getattr(gen, "name", "")).endswith(INT8_SUFFIX):
        return gen
    return dataclasses.replace(gen, model=quantize_int8(gen.model), name=f"{gen.name}{INT8_SUFFIX}")


def weight_bytes(model) -> int:
    """Bytes the model's weights take in memory: fp32 tensors, plus the packed int8 weights of quantized layers."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    for mod in model.modules():
        if hasattr(mod, "_packed_params") and callable(getattr(mod, "weight", None)):  # a dynamic quantized Linear
            weight, bias = mod.weight(), mod.bias()
            total += weight.numel() * weight.element_size() + (bias.numel() * 4 if bias is not None else 0)
    return total
