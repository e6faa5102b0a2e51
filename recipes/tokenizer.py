"""Byte-level BPE tokenizer (4,096 tokens) with a chat template, trained on the training mix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Iterable

BOS, EOS, PAD = "<s>", "</s>", "<pad>"
ROLE_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>"]
SPECIAL_TOKENS = [PAD, BOS, EOS, *ROLE_TOKENS]

# Rendered text: <s><|system|>\n{system}\n<|user|>\n{question}\n<|assistant|>\n{answer}</s>
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' }}"
    "{% if message['role'] == 'assistant' %}{{ message['content'] + eos_token }}"
    "{% else %}{{ message['content'] + '\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)


@lru_cache(maxsize=1)
def _compiled_template():
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(CHAT_TEMPLATE)


def apply_template(messages: list[dict]) -> str:
    """``CHAT_TEMPLATE`` itself, with the assistant turn opened: the training data is rendered by the same
    template the saved tokenizer applies at inference, before that tokenizer exists."""
    return _compiled_template().render(messages=messages, bos_token=BOS, eos_token=EOS, add_generation_prompt=True)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096):
    """Train a byte-level BPE and wrap it as a ``PreTrainedTokenizerFast``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, min_frequency=2,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return wrap(tok)


def wrap(tok):
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD,
        additional_special_tokens=ROLE_TOKENS, model_max_length=1024, padding_side="left",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def save_tokenizer(tokenizer, out_dir: Path) -> None:
    tokenizer.save_pretrained(str(out_dir))
    finalize_tokenizer_config(out_dir)


def finalize_tokenizer_config(folder: Path) -> None:
    """Make ``tokenizer_config.json`` self-contained and readable by older transformers too:
    the chat template inline (as well as in chat_template.jinja) and a portable class name."""
    import json

    path = Path(folder) / "tokenizer_config.json"
    cfg = json.loads(path.read_text())
    cfg["chat_template"] = CHAT_TEMPLATE
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg.setdefault("additional_special_tokens", ROLE_TOKENS)
    path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
