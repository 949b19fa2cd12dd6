"""Baeum kit: load a small open language model offline, chat with it, within quotas."""

from kit import quota
from kit.errors import KitError, QuotaExceeded, SettingError
from kit.loading import load_model, models
from kit.messages import set_language
from kit.model import Model

__version__ = "0.1.0"

__all__ = [
    "KitError",
    "Model",
    "QuotaExceeded",
    "SettingError",
    "load_model",
    "models",
    "quota",
    "set_language",
]
