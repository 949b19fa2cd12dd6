"""Streaming: each finished piece of an answer to the notebook, a callback or a reader.

One row (a notebook cell) streams through transformers' TextStreamer. A batch of many
students' rows (the service) streams through `RowStreamer`: it takes the batch's new
token column, as transformers hands it over, and gives each row its own TextStreamer,
so every row decodes incrementally on its own. `BatchAbort` stops single rows whose
reader left, or the whole batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence

import torch
from transformers import TextStreamer


class CallbackStreamer(TextStreamer):
    """Send each finished piece of text to a callback (a widget, a web page)."""

    def __init__(self, tokenizer, callback: Callable[[str], None]) -> None:
        super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
        self.callback = callback

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if text:
            self.callback(text)


def streamer_for(tokenizer, stream, rows: int = 1) -> TextStreamer | None:
    """Return a streamer that prints, calls `stream` with each piece, or is `stream`."""
    if hasattr(stream, "put"):  # already a streamer (the service's RowStreamer)
        return stream
    if not stream or rows != 1:
        return None
    if callable(stream):
        return CallbackStreamer(tokenizer, stream)
    return TextStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)


class PieceDisplay:
    """Show text pieces that arrive already decoded as the local streamers show them."""

    def __init__(self, stream: bool | Callable[[str], None]) -> None:
        self.stream = stream

    def __call__(self, text: str) -> None:
        if not text:
            return
        if callable(self.stream):
            self.stream(text)
        else:  # as TextStreamer.on_finalized_text prints
            print(text, flush=True, end="")

    def end(self) -> None:
        """Close the line, as TextStreamer does at the end of an answer."""
        if not callable(self.stream):
            print(flush=True)


class RowText(CallbackStreamer):
    """One row of a batch: its prompt skipped, its text up to its stop id, then quiet."""

    def __init__(self, tokenizer, callback, stops: Collection[int]) -> None:
        super().__init__(tokenizer, callback)
        self.stops = set(stops)
        self.done = False

    def put(self, value: torch.Tensor) -> None:
        if self.done:
            return
        if self.next_tokens_are_prompt:
            return super().put(value)
        ids = value.reshape(-1).tolist()
        for i, token in enumerate(ids):
            if token in self.stops:  # what a batch adds after it (padding) is not text
                super().put(torch.tensor(ids[: i + 1]))
                return self.end()
        super().put(torch.tensor(ids))

    def end(self) -> None:
        if not self.done:
            self.done = True
            super().end()

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        # A reply cut at max_new_tokens drops a half character, as Model does.
        super().on_finalized_text(text.rstrip("\ufffd") if stream_end else text)


class RowStreamer:
    """Split a batch's new tokens per row: row i's pieces go to senders[i] (None: not)."""

    def __init__(
        self,
        tokenizer,
        senders: Sequence[Callable[[str], None] | None],
        stops: Collection[int],
    ) -> None:
        self.rows = [
            RowText(tokenizer, send, stops) if send is not None else None
            for send in senders
        ]

    def row(self, index: int) -> RowText | None:
        """Return row `index`'s own streamer (engines that run rows one by one)."""
        return self.rows[index] or _QUIET

    def put(self, value: torch.Tensor) -> None:
        """Take the prompts (batch x length) first, then each step's column of new ids."""
        column = value.reshape(len(self.rows), -1)
        for row, ids in zip(self.rows, column):
            if row is not None:
                row.put(ids[None])

    def end(self) -> None:
        """End every row (the ones that met their stop id have ended already)."""
        for row in self.rows:
            if row is not None:
                row.end()


class _Quiet:
    """The streamer of a row nobody reads."""

    def put(self, value) -> None:
        pass

    def end(self) -> None:
        pass


_QUIET = _Quiet()


class BatchAbort:
    """Stop a whole batch (the service stops), or the rows whose reader left."""

    def __init__(
        self, whole: threading.Event, left: Sequence[threading.Event | None]
    ) -> None:
        self.whole = whole
        self.left = list(left)  # None: nobody can leave (an answer sent whole)

    def is_set(self) -> bool:
        """Return True when no row needs more: stopping, or every reader gone."""
        gone = [e is not None and e.is_set() for e in self.left]
        return self.whole.is_set() or (bool(gone) and all(gone))

    def stopped(self) -> list[bool]:
        """Return, per row, whether it should stop now."""
        whole = self.whole.is_set()
        return [whole or (e is not None and e.is_set()) for e in self.left]

    def row(self, index: int) -> _RowAbort:
        """Return what stops row `index` alone (engines that run rows one by one)."""
        return _RowAbort(self, index)


class _RowAbort:
    def __init__(self, batch: BatchAbort, index: int) -> None:
        self.batch, self.index = batch, index

    def is_set(self) -> bool:
        return self.batch.stopped()[self.index]


def for_row(part, index: int):
    """Return the part of a batch's streamer or abort that belongs to row `index`."""
    row = getattr(part, "row", None)
    return row(index) if row is not None else part


def row_stopped(abort, index: int) -> bool:
    """Return True when row `index` should stop (its reader left, or everyone's did)."""
    return abort is not None and for_row(abort, index).is_set()
