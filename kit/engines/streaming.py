"""Streaming: each finished piece of an answer to the notebook or a callback."""

from __future__ import annotations

from collections.abc import Callable

from transformers import TextStreamer


class CallbackStreamer(TextStreamer):
    """Send each finished piece of text to a callback (a widget, a web page)."""

    def __init__(self, tokenizer, callback: Callable[[str], None]) -> None:
        super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
        self.callback = callback

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if text:
            self.callback(text)


def streamer_for(tokenizer, stream) -> TextStreamer:
    """Return a streamer that prints, or that calls `stream` with each piece."""
    if callable(stream):
        return CallbackStreamer(tokenizer, stream)
    return TextStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
