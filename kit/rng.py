"""torch's one random generator, shared by the service's threads without mixing seeds.

torch keeps a single global generator per process (and one per GPU). In the service
the Batcher samples, fine-tune jobs train (dropout) and adapters load (peft draws
LoRA's initial weights) in different threads at once; without care one student's seed
would shift another's draws. Whoever draws random numbers holds RNG_LOCK; a job keeps
its own generator state between its steps.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

RNG_LOCK = threading.Lock()


class OwnStream:
    """A job's own random stream: the generator is its own from hold() to release()."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.held = False
        self.state: list[torch.Tensor] | None = None  # None: start from the current one

    def hold(self) -> None:
        """Take the generator, set to where this stream left it."""
        if not self.held:
            RNG_LOCK.acquire()
            self.held = True
            if self.state is not None:
                _set_state(self.device, self.state)

    def release(self) -> None:
        """Remember where this stream is, and let others draw."""
        if self.held:
            self.state = _get_state(self.device)
            self.held = False
            RNG_LOCK.release()


def _get_state(device: torch.device) -> list[torch.Tensor]:
    state = [torch.get_rng_state()]
    if device.type == "cuda":
        state.append(torch.cuda.get_rng_state(device))
    return state


def _set_state(device: torch.device, state: list[torch.Tensor]) -> None:
    torch.set_rng_state(state[0])
    if device.type == "cuda":
        torch.cuda.set_rng_state(state[1], device)


@contextmanager
def seeded(seed: int | None, device: torch.device) -> Iterator[None]:
    """Seed sampling for this call only, leaving the caller's random state alone."""
    if seed is None:
        yield
        return
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
