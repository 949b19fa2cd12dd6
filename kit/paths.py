"""Where the kit keeps its files: the model cache (a hub admin can point it elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Return the model cache folder: KIT_CACHE_DIR, else the per-user cache."""
    if os.environ.get("KIT_CACHE_DIR"):
        return Path(os.environ["KIT_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "baeum"


def is_writable(folder: Path) -> bool:
    """Return True if files can be created in `folder` (creating it if needed)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)
