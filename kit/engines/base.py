"""The Engine interface: what kit.Model asks of whatever runs the weights."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Sampling:
    """How to pick each next token: greedy when temperature is 0."""

    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = None

    @property
    def greedy(self) -> bool:
        """Return True when the most likely token is always taken."""
        return self.temperature <= 0


class Engine(ABC):
    """Runs a model on token ids; tokenizing and chat templates stay in kit.Model."""

    #: Short name shown to people ("transformers", "llama.cpp").
    label: str = "?"
    #: The most tokens (prompt + answer) the engine holds, if tighter than the model's.
    context: int | None = None
    #: Sampling draws from this process's torch generator (a server draws its own).
    local_rng: bool = True

    @abstractmethod
    def generate(
        self,
        rows: Sequence[Sequence[int]],
        sampling: Sampling,
        stops: Collection[int],
        *,
        streamer=None,
        abort: threading.Event | None = None,
    ) -> list[list[int]]:
        """Return each row's new ids, up to and including the first stop id.

        `streamer` has transformers' streamer interface (put/end): one row's, or a
        batch's RowStreamer; `abort`, when set, ends generation early (the service
        stops); a BatchAbort also stops single rows (kit.engines.streaming.for_row).
        """

    @abstractmethod
    def next_token_logits(
        self, ids: Sequence[int], *, wanted: Sequence[int] = ()
    ) -> torch.Tensor:
        """Return the float32 logits of the token that would follow `ids`.

        An engine that only sees the top of the distribution (a server's logprobs)
        makes sure the ids in `wanted` are exact too; the others ignore it.
        """

    @abstractmethod
    def with_lora(self, peft_model) -> Engine:
        """Return an engine that runs `peft_model`: these base weights plus its LoRA."""


def until_stop(new: Sequence[int], stops: Collection[int]) -> list[int]:
    """Return the generated ids up to and including the first stop id."""
    answer = []
    for token in new:
        answer.append(int(token))
        if token in stops:
            break
    return answer
