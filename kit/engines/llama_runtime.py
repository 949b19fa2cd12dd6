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

    llama.cpp's threads wait for each other by spinning, so using every core collapses
    when another process wants one. Measured on 2 busy cores (load 5): decoding with 2
    threads ran 5x slower than with 1, and reading a 400-token prompt took 37 s with 2
    threads against 2.5 s with 1 (benchmarks/generate.py has the quiet figures).
    """
    cores = os.cpu_count() or 1
    wanted = os.environ.get("KIT_THREADS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted), int(wanted)
    return max(1, cores - 1), max(1, cores - 1)


class Runtime:
    """A llama.cpp model, its context and loaded adapters; one request at a time."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit  # the longest context it may grow to
        self.lock = threading.Lock()
        self.llm = None
        self._adapters: dict[str, object] = {}  # GGUF adapter path -> handle
        self._adapter: str | None = None  # the adapter the context applies now
        self._prompt: list[int] = []  # the last prompt read; its cells are reusable
        self.reuse = True  # False: read every prompt in full (benchmarks compare)
        self.reused = 0  # prompt tokens not read again, in total (for the benchmark)
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
        self._adapter, self._prompt = None, []  # a new context: nothing applied or read
        model = self.llm.model
        # Only a plain KV cache can drop its tail and keep the rest: recurrent state
        # cannot, and a sliding window forgets early cells that a prefix would need.
        self._can_reuse = not (
            llama_cpp.llama_model_is_recurrent(model)
            or llama_cpp.llama_model_is_hybrid(model)
            or llama_cpp.llama_model_n_swa(model) > 0
        )

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
        if adapter != self._adapter:  # cells computed with other weights: read again
            self._prompt = []
            self._adapter = adapter
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

    def forget(self) -> None:
        """Keep no cells for the next prompt: it is read from its first token."""
        self._prompt = []

    def start(self, ids: list[int]) -> None:
        """Read the prompt `ids`, keeping the cells of a prefix shared with the last one.

        The logits are bit for bit those of a fresh read (tests/test_engines.py).
        """
        keep = self._shared_prefix(ids) if self.reuse else 0
        self._prompt = []  # if reading fails halfway, nothing is trusted next time
        if keep:  # eval() drops the cells from n_tokens on; input_ids[:keep] are ids
            self.llm.n_tokens = keep
        else:
            self.llm.reset()
        self.llm.eval(ids[keep:])
        self._prompt = list(ids)
        self.reused += keep

    def _shared_prefix(self, ids: list[int]) -> int:
        """Return how many cells of the last prompt the read of `ids` can keep.

        eval() reads in chunks of BATCH counted from where it starts. Keeping a
        multiple of BATCH gives every chunk the boundaries of a fresh read, so each
        cell and logit is computed from the same numbers in the same order. Only
        prompt ids count: tokens decoded one by one after a prompt were computed in
        other chunks than a fresh read would use, so they are never kept.
        """
        if not self._can_reuse:
            return 0
        same = 0
        for old, new in zip(self._prompt, ids):
            if old != new:
                break
            same += 1
        same = min(same, len(ids) - 1)  # read at least one token: fresh last logits
        return max(0, same) // BATCH * BATCH

    def step(self, token: int) -> None:
        """Read one more token."""
        self.llm.eval([token])

    def last_logits(self) -> torch.Tensor:
        """Return a float32 copy of the logits after the last token read."""
        import llama_cpp

        pointer = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        logits = np.ctypeslib.as_array(pointer, shape=(self.llm.n_vocab(),))
        return torch.from_numpy(logits.copy())
