"""Baeum kit: load a small open language model offline, chat with it, within quotas."""

import importlib

from kit import quota
from kit.adapters import Adapter
from kit.app import app
from kit.errors import KitError, QuotaExceeded, SettingError
from kit.evaluate import compare, evaluate
from kit.finetune import finetune
from kit.korean_hint import hangul_share
from kit.loading import load_model, models
from kit.messages import language, set_language
from kit.model import Model
from kit.prompt import Prompt, task_prompt

__version__ = "0.1.0"

_LAZY = {
    "datasets",
    "remote",
    "retrieval",
    "widgets",
}  # imported on first use: ipywidgets is not needed to chat


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f"kit.{name}")
    raise AttributeError(f"module 'kit' has no attribute {name!r}")


__all__ = [
    "Adapter",
    "KitError",
    "Model",
    "Prompt",
    "task_prompt",
    "QuotaExceeded",
    "SettingError",
    "app",
    "compare",
    "datasets",
    "evaluate",
    "finetune",
    "hangul_share",
    "language",
    "load_model",
    "models",
    "quota",
    "remote",
    "retrieval",
    "set_language",
    "widgets",
]
