"""Shared fixtures: one real bundled model per worker, tiny random models from configs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import kit
from kit import quota
from kit.models import bundled

TINY = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=2, num_key_value_heads=1, head_dim=16,
            max_position_embeddings=256, vocab_size=49152)  # fmt: skip


@pytest.fixture(scope="session")
def real_model() -> kit.Model:
    """The real bundled SmolLM2-135M-Instruct, loaded once per test worker."""
    return kit.load_model()


@pytest.fixture(scope="session")
def bundled_folder() -> Path:
    """The cache folder of the converted bundled model (tokenizer files live here)."""
    return bundled.prepare()


def make_tiny(arch: str, folder: Path, tokenizer_from: Path, **overrides) -> Path:
    """Save a tiny random causal LM of architecture `arch` with the bundled tokenizer."""
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config_class = {
        "llama": transformers.LlamaConfig,
        "qwen2": transformers.Qwen2Config,
        "qwen3": transformers.Qwen3Config,
        "mistral": transformers.MistralConfig,
        "gemma3": transformers.Gemma3TextConfig,
        "exaone4": transformers.Exaone4Config,
    }[arch]
    config = config_class(**{**TINY, **overrides}, pad_token_id=2, eos_token_id=2,
                          bos_token_id=1)  # fmt: skip
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tokenizer_from).save_pretrained(folder)
    model.generation_config.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory, bundled_folder) -> Path:
    """A tiny random Llama saved as a local Hugging Face folder."""
    return make_tiny("llama", tmp_path_factory.mktemp("tiny-llama"), bundled_folder)


@pytest.fixture(scope="session")
def tiny_model(tiny_folder) -> kit.Model:
    """The tiny random Llama loaded through kit.load_model."""
    return kit.load_model(str(tiny_folder))


@pytest.fixture()
def fresh_quota(tmp_path, monkeypatch):
    """A private ledger and quota file for one test."""
    monkeypatch.setenv("KIT_QUOTA_DB", str(tmp_path / "ledger.sqlite"))
    monkeypatch.setenv("KIT_QUOTA_FILE", str(tmp_path / "quota.toml"))
    monkeypatch.delenv("KIT_QUOTA_EXEMPT", raising=False)
    quota.reset_current()
    yield tmp_path / "quota.toml"
    quota.reset_current()
