"""A tiny causal LM with a chat template, built on the fly (random weights, no download)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
CORPUS = (
    "hello hi how are you i am fine thank you would you like to donate to save the children "
    "donation dollars two one half yes no maybe i feel sad anxious better worse tell me more "
    "about your job school friends family the charity helps kids around the world it is "
    "trusted what do you think i will give some money today please think about it { } : , . ? !"
)


def tiny_tokenizer():
    """A word-level tokenizer trained on the fly on a small corpus, with special tokens and a
    chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<eos>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator([CORPUS], trainers.WordLevelTrainer(special_tokens=specials))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>"
    )
    fast.add_special_tokens({"additional_special_tokens": specials[3:]})
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_model(tokenizer, seed: int = 0, arch: str = "llama"):
    """A 2-layer causal LM (``llama`` or ``gpt2``) with random weights sized to ``tokenizer``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    ids = dict(eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    if arch == "gpt2":
        config = GPT2Config(
            vocab_size=len(tokenizer),
            n_embd=32,
            n_layer=2,
            n_head=2,
            n_positions=512,
            bos_token_id=tokenizer.eos_token_id,
            **ids,
        )
        return GPT2LMHeadModel(config).eval()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=None,
        **ids,
    )
    return LlamaForCausalLM(config).eval()


def tiny_bpe_tokenizer():
    """A byte-level BPE tokenizer (like SmolLM2's or GPT-2's, a few hundred tokens) trained on
    the fly on the corpus plus JSON answers, with the same special tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<eos>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    json_text = " ".join(f'{{"donation": {x}}} {{"intensity": {x}}}' for x in ("0", "1.5", "2"))
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator([CORPUS, json_text], trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>"
    )
    fast.add_special_tokens({"additional_special_tokens": specials[3:]})
    fast.chat_template = CHAT_TEMPLATE
    return fast


def save_tiny(path: Path) -> Path:
    """Save a tiny model and its tokenizer as a transformers folder at ``path``; returns it."""
    tok = tiny_tokenizer()
    tiny_model(tok).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def play(agent: Any, episodes: int = 1, max_turns: int = 2, env_id: str = "Persuasion-v0") -> Any:
    """``episodes`` short episodes of ``agent`` from seed 0, transcripts kept, no oracle."""
    import dialogue_gym

    return dialogue_gym.evaluate(
        agent,
        env_id,
        episodes,
        seed=0,
        progress=False,
        oracle=False,
        max_turns=max_turns,
        keep_transcripts=True,
    )
