"""The llama.cpp engine: fast decoding of a GGUF file, with LoRA adapters at run time."""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Sequence
from pathlib import Path

import torch

from kit.engines.base import Engine, Sampling
from kit.engines.gguf_lora import NotConvertible, digest, lora_layers, write_adapter
from kit.engines.llama_runtime import Runtime
from kit.engines.streaming import for_row
from kit.engines.torch_engine import TorchEngine
from kit.paths import cache_dir, is_writable
from kit.rng import seeded

# The longest context the engine grows to (kit/engines/llama_runtime.py starts small).
MAX_CONTEXT = 8192


def available() -> bool:
    """Return True when llama-cpp-python is installed."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def adapter_folder() -> Path:
    """Return where converted adapters go: the model cache, else a private temp folder."""
    folder = cache_dir() / "adapters-gguf"
    if is_writable(folder):
        return folder
    import tempfile

    return Path(tempfile.gettempdir()) / f"baeum-adapters-gguf-{os.getuid()}"


class LlamaCppEngine(Engine):
    """Generate with llama.cpp from a GGUF file, memory-mapped and shared by kernels."""

    label = "llama.cpp"

    def __init__(
        self, gguf: str | os.PathLike, *, pad_id: int, context: int = MAX_CONTEXT
    ) -> None:
        self.path = Path(gguf)
        self.runtime = Runtime(self.path, context)  # shared with the adapter views
        self.context = context
        self.pad_id = pad_id  # for the transformers fallback of unusual adapters
        self.adapter: str | None = None  # the adapter this view applies (None: base)

    def with_adapter(self, gguf_adapter: str | os.PathLike) -> LlamaCppEngine:
        """Return a view of this engine that applies a LoRA adapter (weights shared)."""
        view = object.__new__(LlamaCppEngine)
        view.__dict__.update(self.__dict__)
        view.adapter = str(gguf_adapter)
        return view

    def with_lora(self, peft_model) -> Engine:
        """Return an engine for a peft model on these weights, converted when it changes."""
        return LlamaLoraEngine(self, peft_model)

    def generate(
        self,
        rows: Sequence[Sequence[int]],
        sampling: Sampling,
        stops: Collection[int],
        *,
        streamer=None,
        abort: threading.Event | None = None,
    ) -> list[list[int]]:
        """Return each row's new ids; rows run one after another (same text as alone)."""
        answers = []
        # One seed for the whole batch, as transformers does: rows draw in turn from
        # one stream, so twelve rows of the same prompt give twelve samples.
        runtime = self.runtime
        with runtime.lock, seeded(sampling.seed, torch.device("cpu")):
            runtime.fit(max(len(row) for row in rows) + sampling.max_new_tokens)
            runtime.use_adapter(self.adapter)
            for i, row in enumerate(rows):  # a batch's streamer and abort, per row
                answers.append(self._one(list(row), sampling, stops,
                                         for_row(streamer, i), for_row(abort, i)))  # fmt: skip
        return answers

    def next_token_logits(
        self, ids: Sequence[int], *, wanted: Sequence[int] = ()
    ) -> torch.Tensor:
        """Return the float32 logits after `ids` as llama.cpp computes them."""
        runtime = self.runtime
        with runtime.lock:
            runtime.fit(len(ids) + 1)
            runtime.use_adapter(self.adapter)
            runtime.start(list(ids))
            return runtime.last_logits()

    def _one(self, ids, sampling: Sampling, stops, streamer, abort) -> list[int]:
        """Decode one prompt: llama.cpp's logits, transformers' own sampling steps.

        Picking the token in torch, with transformers' warpers and torch's generator,
        gives the same text for a seed as the transformers engine (the lessons were
        measured there), and is as fast as llama.cpp's own sampler loop.
        """
        if streamer is not None:
            streamer.put(torch.tensor([ids]))  # the prompt: skipped by the streamer
        warpers = _warpers(sampling)
        new: list[int] = []
        runtime = self.runtime
        runtime.start(ids)
        with torch.inference_mode():
            while True:
                scores = runtime.last_logits()[None]
                if sampling.greedy:
                    token = int(scores.argmax(-1))
                else:
                    scores = warpers(None, scores)
                    token = int(torch.multinomial(scores.softmax(-1), 1))
                new.append(token)
                if streamer is not None:
                    streamer.put(torch.tensor([token]))
                if token in stops or len(new) >= sampling.max_new_tokens:
                    break
                if abort is not None and abort.is_set():
                    break
                runtime.step(token)
        if streamer is not None:
            streamer.end()
        return new


def _warpers(sampling: Sampling):
    """Return transformers' sampling warpers, in the order its generate applies them."""
    from transformers import (
        LogitsProcessorList,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    warpers = LogitsProcessorList()
    if sampling.greedy:
        return warpers
    if sampling.temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(sampling.temperature))
    if sampling.top_k:
        warpers.append(TopKLogitsWarper(sampling.top_k))
    if sampling.top_p < 1.0:
        warpers.append(TopPLogitsWarper(sampling.top_p))
    return warpers


class LlamaLoraEngine(Engine):
    """llama.cpp plus a peft adapter, written as a GGUF adapter whenever it changes."""

    label = "llama.cpp"

    def __init__(self, base: LlamaCppEngine, peft_model) -> None:
        self.base = base
        self.peft_model = peft_model
        self.context = base.context
        self._key: str | None = None
        self._view: Engine | None = None

    def with_lora(self, peft_model) -> Engine:
        """Return an engine for another adapter on the same base weights."""
        return LlamaLoraEngine(self.base, peft_model)

    def generate(self, rows, sampling, stops, *, streamer=None, abort=None):
        """Return each row's new ids, with the adapter's current weights applied."""
        return self.current().generate(
            rows, sampling, stops, streamer=streamer, abort=abort
        )

    def next_token_logits(
        self, ids: Sequence[int], *, wanted: Sequence[int] = ()
    ) -> torch.Tensor:
        """Return the float32 logits after `ids`, with the adapter applied."""
        return self.current().next_token_logits(ids, wanted=wanted)

    def current(self) -> Engine:
        """Return the engine for the adapter's weights as they are now.

        The file is keyed by a digest of the LoRA weights, so training more steps or
        loading another adapter gives a new file, and the same weights reuse one.
        """
        if isinstance(self._view, TorchEngine):
            return self._view
        try:
            layers = lora_layers(self.peft_model)
            key = digest(layers) + "-" + self.base.path.stem[:40]
            if key != self._key:
                target = adapter_folder() / f"{key}.gguf"
                if not target.exists():
                    config = self.peft_model.get_base_model().config
                    write_adapter(self.peft_model, config, target)
                self._view, self._key = self.base.with_adapter(target), key
        except NotConvertible:  # e.g. LoRA on embeddings: the exact, slower engine
            self._view = TorchEngine(self.peft_model, self.base.pad_id)
        return self._view
