"""The rows the batcher queues: one student's request, its rows, when two may share."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from kit.engines.streaming import BatchAbort, RowStreamer
from kit.model import Model
from kit.results import Reply


@dataclass(eq=False)
class Reader:
    """Someone reading one row as it is made: where its pieces go, and if they left."""

    send: Callable[[str], None]
    left: threading.Event = field(default_factory=threading.Event)


@dataclass(eq=False)
class Request:
    """One submit(): its rows, the replies so far, and the future to resolve."""

    student: str
    model: Model
    settings: dict
    future: concurrent.futures.Future
    replies: list[Reply | None] = field(default_factory=list)
    waiting: int = 0  # rows not answered yet
    readers: list[Reader | None] | None = (
        None  # streamed rows (kit.service.event_stream)
    )

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

    @property
    def reader(self) -> Reader | None:
        """Return who reads this row as it is made (None: it is answered whole)."""
        readers = self.request.readers
        return readers[self.index] if readers else None


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


def without_gone(batch: list[Row]) -> list[Row]:
    """Drop rows whose reader left while queued: their request is cancelled, uncharged."""
    gone = [row for row in batch if row.reader is not None and row.reader.left.is_set()]
    for row in gone:
        row.request.future.cancel()
    return [row for row in batch if all(row is not g for g in gone)]


def streams(batch: list[Row], whole: threading.Event):
    """Return a batch's streamer (False: nobody reads) and what stops it, or its rows."""
    readers = [row.reader for row in batch]
    if not any(readers):
        return False, whole
    model = batch[0].request.model
    senders = [reader.send if reader else None for reader in readers]
    streamer = RowStreamer(model.tokenizer, senders, model._stop_ids())
    return streamer, BatchAbort(whole, [r.left if r else None for r in readers])
