"""The vLLM engine: generation handed to a vLLM server (hub mode, a class on one GPU)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Collection, Sequence

import torch

from kit.engines.base import Engine, Sampling
from kit.engines.streaming import for_row, row_stopped
from kit.engines.torch_engine import TorchEngine
from kit.engines.vllm_client import AdapterMissing, EngineFailed, VllmServer
from kit.errors import ServiceUnavailable


class VllmEngine(Engine):
    """Generate on a vLLM server from token ids: the kit tokenizes, vLLM batches."""

    label = "vLLM"
    local_rng = False

    def __init__(
        self,
        server: VllmServer,
        *,
        vocab_size: int,
        pad_id: int = 0,
        lora: str | None = None,
        register: Callable[[], None] | None = None,
    ) -> None:
        self.server = server
        self.vocab_size, self.pad_id = vocab_size, pad_id
        self.lora = lora  # the name vLLM knows this adapter by (None: the base)
        self.register = register  # loads `lora` again after a server restart
        # The most the kit asks (next_token_probs' top); a server started with vLLM's
        # default --max-logprobs 20 refuses that, and is asked for 20 from then on.
        self.top_logprobs = 100

    @property
    def context(self) -> int:
        """Return the server's max_model_len."""
        return self.server.context

    def with_lora(self, peft_model) -> Engine:
        """Return an in-process engine for an adapter not saved yet (a fine-tune job's).

        vLLM reads adapters from their folders: saved ones run there (VllmAdapters).
        """
        return TorchEngine(peft_model, self.pad_id)

    def with_adapter(self, name: str, register: Callable[[], None]) -> VllmEngine:
        """Return a view that runs the adapter vLLM knows as `name`."""
        return VllmEngine(self.server, vocab_size=self.vocab_size, pad_id=self.pad_id,
                          lora=name, register=register)  # fmt: skip

    # --- the Engine interface ----------------------------------------------------------
    def generate(
        self,
        rows: Sequence[Sequence[int]],
        sampling: Sampling,
        stops: Collection[int],
        *,
        streamer=None,
        abort: threading.Event | None = None,
    ) -> list[list[int]]:
        """Return each row's new ids: one streamed request, vLLM batches the rows."""
        body = {
            "prompt": [list(map(int, row)) for row in rows],
            "max_tokens": sampling.max_new_tokens,
            "temperature": 0.0 if sampling.greedy else sampling.temperature,
            "top_p": 1.0 if sampling.greedy else sampling.top_p,
            "top_k": -1 if sampling.greedy or sampling.top_k <= 0 else sampling.top_k,
            "stop_token_ids": sorted(stops),
            "return_token_ids": True,
            "skip_special_tokens": False,
        }
        if not sampling.greedy and sampling.seed is not None:
            body["seed"] = sampling.seed
        answers: list[list[int]] = [[] for _ in rows]
        for i, row in enumerate(rows):  # the prompt, which a streamer skips
            if streamer is not None:
                for_row(streamer, i).put(torch.tensor([list(row)]))
        for chunk in self._stream(body):
            for choice in chunk["choices"]:
                index, new = choice["index"], choice.get("token_ids") or []
                if row_stopped(abort, index):
                    continue  # its reader left: the row's answer ends where it was
                answers[index].extend(new)
                if streamer is not None and new:
                    for_row(streamer, index).put(torch.tensor([new]))
                if choice.get("finish_reason") == "stop":
                    _close_with_stop(answers[index], choice, stops)
            if abort is not None and abort.is_set():
                break  # closing the stream makes vLLM drop the request
        if streamer is not None:
            streamer.end()
        return answers

    def next_token_logits(
        self, ids: Sequence[int], *, wanted: Sequence[int] = ()
    ) -> torch.Tensor:
        """Return logits whose softmax gives vLLM's top (and `wanted`) probabilities.

        vLLM returns log-probabilities of the most likely tokens only: those (and the
        ids in `wanted`, asked for by id) are exact; the rest of the vocabulary shares
        the remaining probability evenly, so it never outranks a returned token.
        """
        known: dict[int, float] = {}
        try:
            known.update(self._next_logprobs(ids, {"logprobs": self.top_logprobs}))
        except EngineFailed as refused:
            if self.top_logprobs == 20 or "logprobs" not in str(refused):
                raise
            self.top_logprobs = 20
            known.update(self._next_logprobs(ids, {"logprobs": self.top_logprobs}))
        missing = [i for i in dict.fromkeys(wanted) if i not in known]
        if missing:
            asked = {"logprobs": 1, "logprob_token_ids": missing}
            known.update(self._next_logprobs(ids, asked))
        logits = torch.full((self.vocab_size,), -math.inf)
        rest = max(0.0, 1.0 - sum(math.exp(v) for v in known.values()))
        others = self.vocab_size - len(known)
        if rest > 0 and others > 0:
            logits[:] = math.log(rest / others)
        for token, logprob in known.items():
            logits[token] = logprob
        return logits

    # --- internals ---------------------------------------------------------------------
    def _stream(self, body: dict):
        """Stream `body` under this engine's model; register the adapter once if lost."""
        for attempt in (0, 1):
            started = False
            try:
                for chunk in self.server.stream({**body, "model": self._model()}):
                    started = True
                    yield chunk
                return
            except AdapterMissing:
                if started or attempt or self.register is None:
                    raise
                self.register()  # the server restarted and forgot it: load it again

    def _next_logprobs(self, ids: Sequence[int], extra: dict) -> dict[int, float]:
        body = {"prompt": [int(i) for i in ids], "max_tokens": 1, "temperature": 0.0,
                "return_tokens_as_token_ids": True, **extra}  # fmt: skip
        for chunk in self._stream(body):
            for choice in chunk["choices"]:
                tops = (choice.get("logprobs") or {}).get("top_logprobs") or []
                if tops:
                    return {_token_id(k): float(v) for k, v in tops[0].items()}
        raise ServiceUnavailable("engine_unavailable", url=self.server.url)

    def _model(self) -> str:
        return self.lora or self.server.model


def _token_id(key: str) -> int:
    """Return the id in vLLM's 'token_id:123' key (return_tokens_as_token_ids)."""
    return int(key.rsplit(":", 1)[-1])


def _close_with_stop(answer: list[int], choice: dict, stops: Collection[int]) -> None:
    """Put the stop id at the end, as the other engines do (vLLM may leave it out)."""
    reason = choice.get("stop_reason")
    stop = reason if isinstance(reason, int) else None
    if answer and answer[-1] in stops:
        return
    if stop is None and len(stops) == 1:
        stop = next(iter(stops))
    if stop is not None:
        answer.append(stop)
