"""The rows the batcher queues: one student's request, its rows, when two may share."""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass, field

import torch

from kit.model import Model
from kit.results import Reply


@dataclass(eq=False)
class Request:
    """One submit(): its rows, the replies so far, and the future to resolve."""

    student: str
    model: Model
    settings: dict
    future: concurrent.futures.Future
    replies: list[Reply | None] = field(default_factory=list)
    waiting: int = 0  # rows not answered yet

    @property
    def seeded(self) -> bool:
        """Return True when sampling with a seed: its rows batch only together."""
        return self.settings["temperature"] > 0 and self.settings["seed"] is not None


@dataclass(eq=False)
class Row:
    request: Request
    index: int
    ids: torch.Tensor
    fits: bool  # prompt + max_new_tokens within the context: no clamp by neighbours


def compatible(lead: Row, row: Row) -> bool:
    """Return True when `row` can share a generate call with `lead`, unchanged."""
    if row is lead:
        return True
    if lead.request.seeded or row.request.seeded:
        # Same seed, same text as local mode: only the rows of this one request.
        return row.request is lead.request
    if row.request.model is not lead.request.model or not (lead.fits and row.fits):
        return False
    a, b = lead.request.settings, row.request.settings
    knobs = ("max_new_tokens", "temperature")
    if a["temperature"] > 0:  # greedy ignores top_p and top_k
        knobs += ("top_p", "top_k")
    return all(a[k] == b[k] for k in knobs)


def resolve(future: concurrent.futures.Future, value: object) -> None:
    try:
        future.set_result(value)
    except concurrent.futures.InvalidStateError:
        pass  # cancelled by the caller meanwhile


def fail(future: concurrent.futures.Future, error: BaseException) -> None:
    try:
        future.set_exception(error)
    except concurrent.futures.InvalidStateError:
        pass  # already answered, failed or cancelled
