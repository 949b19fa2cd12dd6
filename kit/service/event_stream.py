"""Streamed replies: api/chat and api/generate with "stream": true, as server-sent events.

The answer is `text/event-stream` (docs/hub-api.md, "Streaming"): a `token` event per
piece of text as the batch decodes it, then `done` with exactly the reply JSON of the
same call without streaming, or `error` with its error JSON and HTTP `status`. The
batcher thread hands pieces to the IO loop; a client that leaves stops its row.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tornado import web
from tornado.iostream import StreamClosedError

from kit.errors import SettingError
from kit.service.batch_rows import Reader
from kit.service.http import BaseHandler

HEARTBEAT_SECONDS = 15.0  # a comment line while queued: proxies keep the line open


def event(name: str, data: dict) -> str:
    """Return one server-sent event: its name and its JSON on one data line."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class Trimmed:
    """Pass pieces on so that they join to the whole text stripped, as chat replies are."""

    def __init__(self) -> None:
        self.started = False
        self.held = ""  # trailing whitespace: sent only if more text follows

    def __call__(self, piece: str) -> str:
        if not self.started:
            piece = piece.lstrip()
            self.started = bool(piece)
        body = piece.rstrip()
        if not body:
            self.held += piece
            return ""
        out, self.held = self.held + body, piece[len(body) :]
        return out


class StreamingHandler(BaseHandler):
    """An endpoint that answers a reply whole (JSON) or, asked to stream, as events."""

    def initialize(self, service) -> None:
        super().initialize(service)
        self.streaming = False
        self.gone = False  # the client closed the connection
        self.readers: list[Reader] = []

    def body(self, allowed, required=()) -> dict:
        """Return the JSON body (which may also say "stream": true)."""
        data = super().body({*allowed, "stream"}, required)
        stream = data.pop("stream", False)
        if not isinstance(stream, bool):
            raise SettingError("bad_type", name="stream", kind="bool", value=stream)
        self.streaming = stream
        return data

    async def answer(self, rows, settings: dict, adapter, *, strip: bool = False):
        """Return Service.generate's (replies, clamped); streamed: sending the pieces."""
        if not self.streaming:
            return await self.service.generate(self.student, rows, settings, adapter)
        if self.gone:  # left before anything was queued: nothing to do or charge
            raise web.Finish()
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue = asyncio.Queue()
        self.readers = [Reader(_sender(loop, pieces)) for _ in rows]
        work = asyncio.ensure_future(
            self.service.generate(self.student, rows, settings, adapter, self.readers)
        )
        try:
            await self._pump(pieces, work, Trimmed() if strip else _same)
            if not work.cancelled():  # cancelled: left while queued, dropped, uncharged
                return work.result()
        except Exception as error:  # the same error JSON as unstreamed, as an event
            self.log_exception(*sys.exc_info())
            self.write_error(500, exc_info=(type(error), error, error.__traceback__))
        raise web.Finish()

    async def _pump(self, pieces: asyncio.Queue, work, trim) -> None:
        """Send each piece as a token event until the work is done (heartbeats between)."""
        while True:
            get = asyncio.ensure_future(pieces.get())
            done, _ = await asyncio.wait({get, work}, timeout=HEARTBEAT_SECONDS,
                                         return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
            if get not in done:
                get.cancel()
                if work in done:
                    break
                await self._send(": waiting\n\n")
                continue
            await self._token(trim(get.result()))
        while not pieces.empty():  # pieces are queued before the work is done
            await self._token(trim(pieces.get_nowait()))

    async def _token(self, text: str) -> None:
        if text:
            await self._send(event("token", {"text": text}))

    def _stream_headers(self) -> None:
        # Again before the last event: an error's write_error cleared them.
        self.set_status(200)
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Accel-Buffering", "no")  # nginx in front: do not buffer

    async def _send(self, text: str) -> None:
        if self.gone:
            return
        self._stream_headers()
        self.write(text)
        try:
            await self.flush()
        except StreamClosedError:
            self._leave()

    def _leave(self) -> None:
        """The reader went away: stop generating their rows (charged as made)."""
        self.gone = True
        for reader in self.readers:
            reader.left.set()

    def reply(self, answer: object, status: int = 200) -> None:
        """Send `answer` as JSON, or, streaming, as the last event: done or error."""
        if not self.streaming:
            return super().reply(answer, status)
        self._stream_headers()
        if status >= 400:
            self.write(event("error", {**answer, "status": status}))
        else:
            self.write(event("done", answer))
        self.finish()  # safe on a closed connection; counts the request as ended

    def on_connection_close(self) -> None:
        if not self.streaming:
            return super().on_connection_close()
        self._leave()  # the request ends (and is counted) when its rows have settled


def _same(piece: str) -> str:
    return piece


def _sender(loop: asyncio.AbstractEventLoop, pieces: asyncio.Queue):
    """Return what the batcher thread calls with a row's pieces (onto the IO loop)."""

    def send(text: str) -> None:
        try:
            loop.call_soon_threadsafe(pieces.put_nowait, text)
        except RuntimeError:  # the loop has closed: the service is stopping
            pass

    return send
