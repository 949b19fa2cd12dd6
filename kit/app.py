"""kit.app: a gradio chat page for a model or adapter, inline or standalone, never shared."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator, Sequence

from kit import messages
from kit.errors import KitError
from kit.model import Model


def _text(content) -> str:
    """Return the text of a gradio message content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return " ".join(
            part.get("text", "") if isinstance(part, dict) else str(part)
            for part in content
        )
    return str(content)


def responder(model: Model, *, system: str | None, max_new_tokens: int,
              temperature: float):  # fmt: skip
    """Return the gradio chat function: it streams the model's answer as it is written."""

    def respond(message, history) -> Iterator[str]:
        convo = [{"role": m["role"], "content": _text(m["content"])} for m in history
                 if m.get("role") in ("user", "assistant")]  # fmt: skip
        convo.append({"role": "user", "content": _text(message)})
        pieces: queue.Queue = queue.Queue()
        done = object()

        def work() -> None:
            try:
                model.chat(convo, system=system, max_new_tokens=max_new_tokens,
                           temperature=temperature, stream=pieces.put)  # fmt: skip
            except KitError as error:  # over quota, too long: say so in the chat
                pieces.put(f"\n⚠️ {error}")
            finally:
                pieces.put(done)

        threading.Thread(target=work, daemon=True).start()
        answer = ""
        while (piece := pieces.get()) is not done:
            answer += piece
            yield answer.strip()

    return respond


def app(
    model: Model,
    *,
    title: str | None = None,
    description: str | None = None,
    examples: list[str] | None = None,
    system: str | None = None,
    max_new_tokens: int = 200,
    temperature: float = 0.0,
    launch: bool = True,
    port: int | None = None,
):
    """Open a chat page for `model` (inline in a notebook, or at http://127.0.0.1:port)."""
    os.environ.setdefault(
        "GRADIO_ANALYTICS_ENABLED", "False"
    )  # nothing leaves the machine
    import gradio as gr

    from kit.adapters import Adapter

    if system is None and isinstance(model, Adapter):
        system = model.manifest.get("system")  # ask the way it was trained
    demo = gr.ChatInterface(
        responder(model, system=system, max_new_tokens=max_new_tokens,
                  temperature=temperature),
        title=title or messages.t("app_title", name=model.name),
        description=description or messages.t("app_description"),
        examples=examples,
        cache_examples=False,
        fill_height=True,
    )  # fmt: skip
    if launch:
        from kit.notebook import in_notebook

        demo.launch(
            server_name="127.0.0.1", server_port=port, share=False,
            inline=in_notebook(), prevent_thread_lock=in_notebook(),
            quiet=True,
        )  # fmt: skip
    return demo
