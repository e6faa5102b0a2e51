"""Which layers a run trains, what that costs, and the model prepared to train them.

LoRA wraps linear layers by their short names (``q_proj`` … ``down_proj`` in Llama/Qwen, ``c_attn`` in
GPT-2, ``q``/``v`` in T5); ``lora_target_candidates`` lists a model's, ``parameter_report`` counts the
trainable weights from layer shapes (r × (in + out) per adapted layer) before anything trains, and
``prepare_model`` returns the trainable copy the training loop updates.

>>> report = parameter_report(model, FinetuneConfig(rank=8, target_modules=("q_proj", "v_proj")))  # doctest: +SKIP
>>> report.percent                                                                                  # doctest: +SKIP
0.24
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from core.errors import ConfigError
from core.finetune.config import DEFAULT_TARGETS, FinetuneConfig

@dataclass(frozen=True)
class ParamReport:
    trainable: int
    total: int  # parameters of the model as trained (base + adapter for LoRA)
    percent: float  # trainable / total × 100
    adapter_mb: float  # size of the saved weights in float32 (the adapter, or the whole model for "full")
    train_state_mb: float = 0.0  # gradients + two AdamW moments for the trainable weights (12 bytes each)


def _adaptable_types() -> tuple[type, ...]:
    """Layer types peft's LoRA can wrap and that hold a transformer's weights: Linear, and GPT-2's Conv1D."""
    from transformers.pytorch_utils import Conv1D

    return (torch.nn.Linear, Conv1D)


def _adaptable(model):
    """(short name, module) for every layer LoRA can target; the output head is left out."""
    types = _adaptable_types()
    for name, mod in model.named_modules():
        short = name.rsplit(".", 1)[-1]
        if isinstance(mod, types) and short not in {"lm_head", "score", "classifier"}:
            yield short, mod


def _in_out(mod) -> tuple[int, int]:
    """(in, out) features: a Linear's weight is (out, in); a Conv1D's is (in, out)."""
    if isinstance(mod, torch.nn.Linear):
        return mod.in_features, mod.out_features
    return mod.weight.shape[0], mod.weight.shape[1]


def lora_target_candidates(model) -> list[str]:
    """Names of the layers LoRA can target, per architecture (q_proj … down_proj; GPT-2 c_attn, c_proj, c_fc;
    T5 q, k, v, o, wi_0, wi_1, wo); the output head is excluded."""
    return sorted({short for short, _ in _adaptable(model)})


def attention_targets(model) -> tuple[str, ...]:
    """The query and value projections under this architecture's names (peft's defaults), e.g. q_proj, v_proj."""
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as DEFAULTS

    candidates = lora_target_candidates(model)
    model_type = getattr(getattr(model, "config", None), "model_type", "")
    named = [t for t in DEFAULTS.get(model_type, []) if t in candidates]
    guess = [t for t in ("q_proj", "v_proj", "q", "v", "query", "value", "c_attn") if t in candidates]
    return tuple(named or guess or candidates[:2])


def all_targets(model) -> tuple[str, ...]:
    """Every attention and MLP layer (the Lab's default for its own model: MLPs are where facts are stored)."""
    candidates = lora_target_candidates(model)
    return tuple(t for t in DEFAULT_TARGETS if t in candidates) if set(DEFAULT_TARGETS) <= set(candidates) \
        else tuple(candidates)


def check_targets(model, config: FinetuneConfig) -> None:
    if config.method != "lora":
        return
    candidates = lora_target_candidates(model)
    unknown = [t for t in config.target_modules if t not in candidates]
    if unknown:
        raise ConfigError(f"target_modules {', '.join(unknown)} not in this model; choose from {', '.join(candidates)}")


def parameter_report(model, config: FinetuneConfig) -> ParamReport:
    """Trainable parameters and adapter size, computed from layer shapes: r × (in + out) per targeted layer."""
    check_targets(model, config)
    base = sum(p.numel() for p in model.parameters())  # tied weights are counted once
    if config.method == "full":
        return ParamReport(base, base, 100.0, round(base * 4 / 1e6, 3), round(base * 12 / 1e6, 3))
    from core.finetune.layers import adapted_layers, block_index

    indices, pattern = adapted_layers(model, config.upper_layers)
    chosen = None if indices is None else set(indices)
    trainable = sum(config.rank * sum(_in_out(mod)) for name, mod in model.named_modules()
                    if isinstance(mod, _adaptable_types()) and name.rsplit(".", 1)[-1] in config.target_modules
                    and (chosen is None or block_index(name, pattern) in chosen))
    total = base + trainable
    return ParamReport(trainable, total, round(100 * trainable / total, 4), round(trainable * 4 / 1e6, 3),
                       round(trainable * 12 / 1e6, 3))


def prepare_model(base_model, config: FinetuneConfig, copy_base: bool = True):
    """A trainable COPY of ``base_model``: LoRA-wrapped, or fully trainable for method "full".

    ``copy_base=False`` wraps ``base_model`` itself: only for a private model nobody else uses
    (the CLI's), which saves a second copy of the weights in memory.
    """
    from core.llm.loading import is_seq2seq

    check_targets(base_model, config)
    torch.manual_seed(config.seed)
    model = copy.deepcopy(base_model) if copy_base else base_model
    if config.gradient_checkpointing and getattr(model, "supports_gradient_checkpointing", False):
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if config.method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return model
    from peft import LoraConfig, get_peft_model

    from core.finetune.layers import adapted_layers

    layers, pattern = adapted_layers(model, config.upper_layers)
    lora = LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                      target_modules=list(config.target_modules), layers_to_transform=layers, layers_pattern=pattern,
                      task_type="SEQ_2_SEQ_LM" if is_seq2seq(model) else "CAUSAL_LM")
    return get_peft_model(model, lora)
