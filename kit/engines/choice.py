"""Which engine runs a model: llama.cpp for GGUF weights on the CPU, else transformers."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from kit.engines.base import Engine
from kit.engines.llama_engine import LlamaCppEngine, available
from kit.engines.torch_engine import TorchEngine
from kit.errors import SettingError

NAMES = ("auto", "llama.cpp", "transformers")


def wanted(name: str | None = None) -> str:
    """Return the engine asked for: the argument, else KIT_ENGINE, else "auto"."""
    chosen = (name or os.environ.get("KIT_ENGINE") or "auto").strip().lower()
    if chosen not in NAMES:
        raise SettingError("engine_unknown", value=chosen, names=", ".join(NAMES))
    return chosen


def use_llama_cpp(gguf: Path | None, device: torch.device, name: str | None) -> bool:
    """Return True when llama.cpp runs this model (an explicit ask it cannot meet fails)."""
    chosen = wanted(name)
    fast_possible = gguf is not None and device.type == "cpu" and available()
    if chosen == "llama.cpp" and not fast_possible:
        raise SettingError(_why_not(gguf, device), device=device.type)
    return chosen != "transformers" and fast_possible


def pick_engine(
    hf_model,
    pad_id: int,
    *,
    gguf: Path | None,
    device: torch.device,
    name: str | None = None,
) -> Engine:
    """Return the engine for a model loaded from `gguf` (None: no GGUF file)."""
    if use_llama_cpp(gguf, device, name):
        return LlamaCppEngine(gguf, pad_id=pad_id)
    return TorchEngine(hf_model, pad_id)


def _why_not(gguf: Path | None, device: torch.device) -> str:
    """Return the message key that says why llama.cpp cannot run this model."""
    if gguf is None:
        return "engine_no_gguf"
    if device.type != "cpu":
        return "engine_not_cpu"
    return "engine_missing"
