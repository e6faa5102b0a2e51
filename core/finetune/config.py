"""What a fine-tuning run is asked to do: ``FinetuneConfig``, one frozen record that validates itself.

Every field has a default measured on the Lab's own models and a check with an exact message, so a bad
value from the CLI, a page or a JSON file fails here, before anything loads.

>>> FinetuneConfig(rank=8).alpha
32.0
>>> FinetuneConfig(rank=0)
Traceback (most recent call last):
...
core.errors.ConfigError: rank must be between 1 and 256 (got 0); 4 to 32 is typical
>>> FinetuneConfig.from_dict({"rank": 4, "unknown": 1}).rank   # fields a newer run wrote are ignored
4
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.errors import ConfigError, check_numbers

METHODS = ("lora", "full")
DATA_KINDS = ("qa", "text")
LOSS_ON = ("answer", "all")
# Attention AND MLP: measured on world_arcade, 20 steps recalled 60% of facts vs 22% for q,k,v,o only
# (the MLP layers are where a transformer stores facts).
DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
MAX_STEPS = 100_000  # ~14 h at the Lab's fastest 2 steps/s: anything longer is a typo, not a plan
MAX_EPOCHS = 1_000
# Examples per forward pass. Memory follows this, not the data set: a real model's activations per padded
# position are megabytes. The built-in model's default 64-example batch runs as 4 length-bucketed passes.
MICRO_BATCH = 16


@dataclass(frozen=True)
class FinetuneConfig:
    method: str = "lora"  # "lora" trains small low-rank adapters; "full" updates every weight (for comparison)
    rank: int = 16  # r: width of the low-rank update; more = more capacity and a bigger adapter
    alpha: float = 32.0  # the update is scaled by alpha/r; 2×rank is a common start
    dropout: float = 0.0  # LoRA dropout; 0 because here we *want* to memorise the facts
    target_modules: tuple[str, ...] = DEFAULT_TARGETS  # which linear layers get adapters (all, by default)
    learning_rate: float = 1e-2  # high for memorising in few steps; LoRA tolerates ~10× the LR of full fine-tuning
    epochs: int = 40  # passes over the training set (measured: 40 full-batch steps recalled 100% of 45 facts) …
    max_steps: int = 0  # … unless this is > 0, which caps the run at exactly this many optimiser steps
    batch_size: int = 64  # small sets fit in one batch: full-batch steps are the fastest way to memorise
    seed: int = 0  # seeds data order, the split and the adapter initialisation
    data: str = "qa"  # "qa" = supervised Q&A pairs; "text" = continued pretraining on document text
    paraphrases: int = 0  # also train on this many paraphrases of each question (augmentation)
    open_book_mix: float = 0.25  # fraction of facts also shown WITH their passage, so LoRA+RAG keeps reading
    eval_every: int = 10  # steps between evaluations (generation is the slow part)
    val_fraction: float = 0.1  # facts held out of training, for the eval loss
    max_new_tokens: int = 40  # eval answers are cut here (the value usually comes early)
    max_eval_questions: int = 48  # per metric, to keep evaluation cheap on 2 CPU cores
    micro_batch_size: int = MICRO_BATCH  # examples per forward pass; gradients accumulate up to batch_size
    gradient_checkpointing: bool = False  # recompute activations in backward: less memory, ~30% more time
    max_facts: int = 0  # > 0: train on this many facts (a seeded sample), for a quick run on a real model
    stop_at_recall: float = 0.0  # > 0: stop once facts recalled reaches this (checked at each evaluation)
    # Share of the transformer blocks, counted from the top, that get adapters. 0.5 leaves the lower half frozen:
    # nothing below needs a gradient, so the backward pass ends halfway (core.finetune.layers).
    upper_layers: float = 1.0
    loss_on: str = "answer"  # "answer": learn the answer tokens only (the prompt is given); "all": the prompt too
    bf16: bool = False  # bfloat16 autocast in training steps (fast on CPUs with AMX / AVX-512 BF16); evals stay fp32
    threads: int = 0  # torch threads while training; 0 = the Lab's rule (1 on ≤ 2 cores: see core.runtime.threads)

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_modules", tuple(self.target_modules))
        check_numbers(
            whole={k: getattr(self, k) for k in ("rank", "epochs", "max_steps", "batch_size", "seed", "paraphrases",
                                                 "eval_every", "max_new_tokens", "max_eval_questions",
                                                 "micro_batch_size", "max_facts", "threads")},
            real={k: getattr(self, k) for k in ("alpha", "dropout", "learning_rate", "open_book_mix", "val_fraction",
                                                "stop_at_recall", "upper_layers")})
        checks = [
            (self.method in METHODS, f"method must be one of {', '.join(METHODS)} (got {self.method!r})"),
            (1 <= self.rank <= 256, f"rank must be between 1 and 256 (got {self.rank}); 4 to 32 is typical"),
            (0 < self.alpha <= 4096, f"alpha must be greater than 0 and at most 4096 (got {self.alpha}); 2 × rank is typical"),
            (0 <= self.dropout < 1, f"dropout must be at least 0 and below 1 (got {self.dropout})"),
            (self.method == "full" or len(self.target_modules) > 0, "target_modules must name at least one layer for LoRA"),
            (0 < self.learning_rate <= 1,
             f"learning_rate must be greater than 0 and at most 1 (got {self.learning_rate}); try 1e-4 to 1e-2"),
            (self.epochs >= 1 or self.max_steps >= 1, f"epochs or max_steps must be at least 1 (got {self.epochs}, {self.max_steps})"),
            (0 <= self.epochs <= MAX_EPOCHS, f"epochs must be between 0 and {MAX_EPOCHS:,} (got {self.epochs})"),
            (0 <= self.max_steps <= MAX_STEPS,
             f"max_steps must be 0 (use epochs) or at most {MAX_STEPS:,} (got {self.max_steps:,})"),
            (1 <= self.batch_size <= 4096, f"batch_size must be between 1 and 4096 (got {self.batch_size})"),
            (0 <= self.seed < 2**32, f"seed must be between 0 and 2**32 - 1 (got {self.seed})"),
            (self.data in DATA_KINDS, f"data must be one of {', '.join(DATA_KINDS)} (got {self.data!r})"),
            (0 <= self.paraphrases <= 20, f"paraphrases must be between 0 and 20 (got {self.paraphrases})"),
            (0 <= self.open_book_mix <= 1, f"open_book_mix must be between 0 and 1 (got {self.open_book_mix})"),
            (1 <= self.eval_every <= MAX_STEPS, f"eval_every must be between 1 and {MAX_STEPS:,} (got {self.eval_every})"),
            (0 <= self.val_fraction < 1, f"val_fraction must be at least 0 and below 1 (got {self.val_fraction})"),
            (1 <= self.max_new_tokens <= 256, f"max_new_tokens must be between 1 and 256 (got {self.max_new_tokens})"),
            (1 <= self.max_eval_questions <= 10_000,
             f"max_eval_questions must be between 1 and 10,000 (got {self.max_eval_questions})"),
            (0 <= self.micro_batch_size <= 4096,
             f"micro_batch_size must be 0 (the whole batch) to 4,096 (got {self.micro_batch_size})"),
            (0 <= self.max_facts <= 100_000, f"max_facts must be 0 (all) to 100,000 (got {self.max_facts})"),
            (0 <= self.stop_at_recall <= 1, f"stop_at_recall must be between 0 (off) and 1 (got {self.stop_at_recall})"),
            (0 < self.upper_layers <= 1,
             f"upper_layers must be greater than 0 and at most 1 (got {self.upper_layers}); 0.5 adapts the upper half"),
            (self.loss_on in LOSS_ON, f"loss_on must be one of {', '.join(LOSS_ON)} (got {self.loss_on!r})"),
            (isinstance(self.bf16, bool), f"bf16 must be true or false (got {self.bf16!r})"),
            (0 <= self.threads <= 256, f"threads must be 0 (the Lab's rule) to 256 (got {self.threads})"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FinetuneConfig":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)
