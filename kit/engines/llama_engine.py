"""The llama.cpp engine: fast decoding of a GGUF file, with LoRA adapters at run time."""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import torch

from kit.engines.base import Engine, Sampling
from kit.engines.gguf_lora import NotConvertible, digest, lora_layers, write_adapter
from kit.engines.torch_engine import TorchEngine
from kit.paths import cache_dir, is_writable
from kit.rng import seeded

# The models' own contexts are far longer than lessons need, and the KV cache costs
# memory in every kernel (4096 tokens: ~95 MB for SmolLM2-135M, ~50 MB for Qwen2.5-0.5B).
MAX_CONTEXT = 4096


def available() -> bool:
    """Return True when llama-cpp-python is installed."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def thread_counts() -> tuple[int, int]:
    """Return (decode threads, prompt threads): KIT_THREADS, else all cores but one.

    Decoding on every core collapses when another process wants one (measured: 2
    threads on 2 busy cores ran 5x slower than 1); reading the prompt does not.
    """
    cores = os.cpu_count() or 1
    wanted = os.environ.get("KIT_THREADS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted), int(wanted)
    return max(1, cores - 1), cores


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
        import llama_cpp

        decode_threads, prompt_threads = thread_counts()
        self.path = Path(gguf)
        self.llm = llama_cpp.Llama(
            model_path=str(self.path), n_ctx=context, n_threads=decode_threads,
            n_threads_batch=prompt_threads, verbose=False,
        )  # fmt: skip
        self.context = int(self.llm.n_ctx())
        self.pad_id = pad_id  # for the transformers fallback of unusual adapters
        self.lock = threading.Lock()  # one llama.cpp context: one request at a time
        self._adapters: dict[str, object] = {}  # GGUF adapter path -> llama.cpp handle
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
        with self.lock, seeded(sampling.seed, torch.device("cpu")):
            self._apply_adapter()
            for row in rows:
                answers.append(self._one(list(row), sampling, stops, streamer, abort))
        return answers

    def next_token_logits(self, ids: Sequence[int]) -> torch.Tensor:
        """Return the float32 logits after `ids` as llama.cpp computes them."""
        with self.lock:
            self._apply_adapter()
            self.llm.reset()
            self.llm.eval(list(ids))
            return self._last_logits()

    def _last_logits(self) -> torch.Tensor:
        import llama_cpp

        pointer = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        logits = np.ctypeslib.as_array(pointer, shape=(self.llm.n_vocab(),))
        return torch.from_numpy(logits.copy())

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
        self.llm.reset()  # never reuse an earlier prompt's cache: same text every run
        self.llm.eval(ids)
        with torch.inference_mode():
            while True:
                scores = self._last_logits()[None]
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
                self.llm.eval([token])
        if streamer is not None:
            streamer.end()
        return new

    def _apply_adapter(self) -> None:
        """Set this view's adapter on the shared context (or none for the base)."""
        import llama_cpp

        ctx = self.llm.ctx
        if self.adapter is None:
            llama_cpp.llama_set_adapters_lora(ctx, None, 0, None)
            return
        handle = self._adapters.get(self.adapter)
        if handle is None:
            handle = llama_cpp.llama_adapter_lora_init(
                self.llm.model, self.adapter.encode()
            )
            if not handle:
                raise RuntimeError(f"llama.cpp could not load {self.adapter}")
            self._adapters[self.adapter] = handle
        adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(handle)
        llama_cpp.llama_set_adapters_lora(ctx, adapters, 1, (ctypes.c_float * 1)(1.0))


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

    def next_token_logits(self, ids: Sequence[int]) -> torch.Tensor:
        """Return the float32 logits after `ids`, with the adapter applied."""
        return self.current().next_token_logits(ids)

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
