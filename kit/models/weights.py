"""A converted model folder: its tokenizer and settings now, its torch model on demand."""

from __future__ import annotations

import json
import math
from functools import cached_property
from pathlib import Path

import torch


class FolderWeights:
    """The safetensors weights of a converted folder, built into a model when first used.

    When llama.cpp generates, a kernel needs the transformers model only to train or
    to attach an adapter; building it costs seconds (transformers' modelling imports),
    so a plain load_model() reads the tokenizer and config files and stops there.
    """

    def __init__(self, folder: Path, source: Path, dtype: torch.dtype) -> None:
        self.folder = Path(folder)
        self.source = Path(source)
        self.dtype = dtype

    @cached_property
    def config(self) -> dict:
        """Return the model's config.json as a dict."""
        return json.loads((self.folder / "config.json").read_text())

    @cached_property
    def generation(self) -> dict:
        """Return generation_config.json as a dict (empty when there is none)."""
        path = self.folder / "generation_config.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def eos_ids(self) -> set[int]:
        """Return the ids that end an answer, as the generation config names them."""
        eos = self.generation.get("eos_token_id", self.config.get("eos_token_id"))
        return set(eos if isinstance(eos, list) else [eos]) - {None}

    @cached_property
    def parameter_count(self) -> int:
        """Return how many parameters the model has, from the file's tensor shapes."""
        from safetensors import safe_open

        with safe_open(str(self.source), framework="pt") as weights:
            shapes = [weights.get_slice(k).get_shape() for k in weights.keys()]
        # A tied output layer is not in the file, as parameters() counts it once.
        return sum(math.prod(shape) for shape in shapes)

    def tokenizer(self):
        """Return the folder's tokenizer, of the class its tokenizer_config.json names."""
        from transformers.models.auto.tokenization_auto import tokenizer_class_from_name

        # The class AutoTokenizer would pick, without its AutoConfig lookup: that
        # imports the model's modelling code (~1 s) only to learn the same name.
        settings = json.loads((self.folder / "tokenizer_config.json").read_text())
        found = tokenizer_class_from_name(settings.get("tokenizer_class") or "")
        if found is None:
            from transformers import AutoTokenizer

            return AutoTokenizer.from_pretrained(self.folder)
        return found.from_pretrained(self.folder)

    def build(self) -> torch.nn.Module:
        """Return the transformers model, its weights memory-mapped from the file."""
        from accelerate import init_empty_weights
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModelForCausalLM

        config = AutoConfig.from_pretrained(self.folder)
        # Parameters on the meta device, then assigned the memory-mapped tensors: no
        # copy, so kernels on one machine share one set of weights via the page cache.
        with init_empty_weights(include_buffers=False):
            model = AutoModelForCausalLM.from_config(config, dtype=self.dtype)
        state = load_file(str(self.source))
        if state[next(iter(state))].dtype != self.dtype:
            state = {k: v.to(self.dtype) for k, v in state.items()}
        model.load_state_dict(state, strict=False, assign=True)
        model.tie_weights()
        missing = [n for n, p in model.named_parameters() if p.device.type == "meta"]
        if missing:
            raise RuntimeError(
                f"cached weights are missing {missing[:3]}; delete {self.folder}"
            )
        model.eval()
        return model


def fingerprint_of(hf_model: torch.nn.Module) -> str:
    """Return an id of a model's exact weights: its config and first embedding values."""
    import hashlib

    weights = hf_model.get_input_embeddings().weight
    sample = weights.detach().flatten()[:4096].float().cpu().numpy().tobytes()
    config = hf_model.config.to_dict()
    for transient in ("dtype", "torch_dtype", "transformers_version",
                      "_name_or_path", "_model_name_or_path"):  # fmt: skip
        config.pop(transient, None)
    text = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(text + sample).hexdigest()[:24]
