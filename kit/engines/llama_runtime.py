"""One llama.cpp model and context, shared by an engine and its adapter views."""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path

import numpy as np
import torch

# The context starts small and doubles when a prompt needs it: its KV cache is memory
# in every kernel (1024 tokens: ~24 MB for SmolLM2-135M; 4096: ~95 MB).
FIRST_CONTEXT = 1024
# Prompt tokens read per step: llama-cpp-python keeps n_batch x vocabulary floats of
# logits (512: 100 MB for SmolLM2); 128 read a 900-token prompt as fast (measured).
BATCH = 128


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


class Runtime:
    """A llama.cpp model, its context and loaded adapters; one request at a time."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit  # the longest context it may grow to
        self.lock = threading.Lock()
        self.llm = None
        self._adapters: dict[str, object] = {}  # GGUF adapter path -> handle
        self._open(min(FIRST_CONTEXT, limit))

    def _open(self, size: int) -> None:
        import llama_cpp

        decode, prompt = thread_counts()
        if self.llm is not None:
            self.llm.close()
        # Weights are memory-mapped: opening again re-reads no file, kernels share them.
        self.llm = llama_cpp.Llama(
            model_path=str(self.path), n_ctx=size, n_batch=BATCH, n_threads=decode,
            n_threads_batch=prompt, verbose=False,
        )  # fmt: skip
        self._adapters = {}  # handles belong to the model object just replaced

    def fit(self, tokens: int) -> None:
        """Grow the context (doubling) so that `tokens` tokens fit."""
        size = int(self.llm.n_ctx())
        if tokens <= size:
            return
        while size < tokens:
            size *= 2
        self._open(min(size, self.limit))

    def use_adapter(self, adapter: str | None) -> None:
        """Apply one GGUF LoRA adapter to the context, or none for the base weights."""
        import llama_cpp

        ctx = self.llm.ctx
        if adapter is None:
            llama_cpp.llama_set_adapters_lora(ctx, None, 0, None)
            return
        handle = self._adapters.get(adapter)
        if handle is None:
            handle = llama_cpp.llama_adapter_lora_init(self.llm.model, adapter.encode())
            if not handle:
                raise RuntimeError(f"llama.cpp could not load {adapter}")
            self._adapters[adapter] = handle
        chosen = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(handle)
        llama_cpp.llama_set_adapters_lora(ctx, chosen, 1, (ctypes.c_float * 1)(1.0))

    def start(self, ids: list[int]) -> None:
        """Forget the last prompt and read `ids` (no cache reuse: same text every run)."""
        self.llm.reset()
        self.llm.eval(ids)

    def step(self, token: int) -> None:
        """Read one more token."""
        self.llm.eval([token])

    def last_logits(self) -> torch.Tensor:
        """Return a float32 copy of the logits after the last token read."""
        import llama_cpp

        pointer = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        logits = np.ctypeslib.as_array(pointer, shape=(self.llm.n_vocab(),))
        return torch.from_numpy(logits.copy())
