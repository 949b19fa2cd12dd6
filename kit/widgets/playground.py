"""Playground: a prompt, settings and the model's answer, streamed, within the quota."""

from __future__ import annotations

from contextlib import redirect_stderr
from typing import TYPE_CHECKING

import ipywidgets as w

from kit import quota
from kit.errors import KitError
from kit.messages import t
from kit.results import Reply
from kit.widgets.style import (
    ERROR_STYLE,
    LABEL,
    NOTE_STYLE,
    STATUS_STYLE,
    block,
    width,
)

if TYPE_CHECKING:
    from kit.model import Model
    from kit.prompt import Prompt


class _Sink:
    """A file-like object that hands each printed piece of text to a callback."""

    def __init__(self, on_text) -> None:
        self.on_text = on_text

    def write(self, text: str) -> int:
        if text:
            self.on_text(text)
        return len(text)

    def flush(self) -> None:
        pass


class Playground(w.VBox):
    """Chat with a model: prompt, system prompt, sampling sliders, a Run button."""

    def __init__(
        self,
        model: Model,
        prompt: str = "",
        *,
        system: str = "",
        temperature: float = 0.7,
        top_p: float = 0.9,
        max_new_tokens: int = 128,
        seed: int | None = None,
        task: Prompt | None = None,
    ) -> None:
        self.model = model
        self.task = task  # a kit.Prompt: its template and worked examples go along
        self.reply: Reply | None = None
        self.prompt = w.Textarea(
            value=prompt, placeholder=t("widget_prompt_placeholder"),
            description=t("widget_prompt"), rows=3, style=LABEL, layout=width("46em"),
        )  # fmt: skip
        self.system = w.Textarea(
            value=system, placeholder=t("widget_system_placeholder"),
            description=t("widget_system"), rows=2, style=LABEL, layout=width("46em"),
        )  # fmt: skip
        self.temperature = w.FloatSlider(
            value=temperature, min=0.0, max=2.0, step=0.1,
            description=t("widget_temperature"), style=LABEL, layout=width("32em"),
        )  # fmt: skip
        self.top_p = w.FloatSlider(
            value=top_p, min=0.05, max=1.0, step=0.05,
            description=t("widget_top_p"), style=LABEL, layout=width("32em"),
        )  # fmt: skip
        self.max_new_tokens = w.IntSlider(
            value=max_new_tokens, min=1, max=512,
            description=t("widget_max_tokens"), style=LABEL, layout=width("32em"),
        )  # fmt: skip
        self.seed = w.IntText(
            value=-1 if seed is None else seed, description=t("widget_seed"),
            style=LABEL, layout=w.Layout(width="18em"),
        )  # fmt: skip
        self.button = w.Button(
            description=t("widget_run"), button_style="primary", icon="play"
        )
        self.output = w.HTML()
        self.status = w.HTML()
        self.button.on_click(lambda _: self.run())
        for widget, name in [
            (self.prompt, "prompt"), (self.system, "system"),
            (self.temperature, "temperature"), (self.top_p, "top-p"),
            (self.max_new_tokens, "max-new-tokens"), (self.seed, "seed"),
            (self.button, "run"), (self.output, "output"), (self.status, "status"),
        ]:  # fmt: skip
            widget.add_class(f"baeum-{name}")
        super().__init__(
            [
                self.prompt,
                self.system,
                self.temperature,
                self.top_p,
                self.max_new_tokens,
                w.HBox([self.seed, self.button]),
                self.output,
                self.status,
            ]
        )
        self.add_class("baeum-playground")

    def settings(self) -> dict[str, object]:
        """Return the keyword arguments the next run passes to model.chat."""
        seed = self.seed.value
        return dict(
            system=self.system.value.strip() or None,
            temperature=round(float(self.temperature.value), 2),
            top_p=round(float(self.top_p.value), 2),
            max_new_tokens=int(self.max_new_tokens.value),
            seed=None if seed is None or seed < 0 else int(seed),
        )

    def checked_conversation(self) -> str | list[dict[str, str]]:
        """Return what is sent: the box's text, or the task's examples and template."""
        if self.task is None:
            return self.prompt.value
        # The system box wins over the task's own system text, so students can edit it.
        return [
            m for m in self.task.messages(self.prompt.value) if m["role"] != "system"
        ]

    def run(self) -> Reply | None:
        """Answer the prompt, streaming into the output area; None if it failed."""
        streamed: list[str] = []
        notes: list[str] = []

        def show_stream(text: str) -> None:
            streamed.append(text)
            self.output.value = block("".join(streamed))

        self.button.disabled = True
        self.output.value = ""
        self.status.value = block(t("widget_running"), STATUS_STYLE)
        self.reply = None
        try:
            # Notes such as "quota nearly used up" go to stderr: show them here.
            with redirect_stderr(_Sink(notes.append)):
                self.reply = self.model.chat(
                    self.checked_conversation(), stream=show_stream, **self.settings()
                )
        except KitError as err:
            self.output.value = block(str(err), ERROR_STYLE)
        except KeyboardInterrupt:  # the notebook's stop button
            self.output.value = block("".join(streamed)) + block(
                t("widget_stopped"), ERROR_STYLE
            )
        except Exception as err:  # not a normal mistake: say so, and keep the trace
            problem = f"{type(err).__name__}: {err}"
            self.output.value = block(
                t("widget_unexpected", error=problem), ERROR_STYLE
            )
            raise
        finally:
            self.button.disabled = False
            self._show_status(notes)
        return self.reply

    def _show_status(self, notes: list[str]) -> None:
        left = quota.current().summary()
        if self.reply is None:
            line = left
        else:
            self.output.value = block(self.reply)
            speed = self.reply.tokens_per_second
            line = t("widget_status", tokens=self.reply.tokens, speed=speed, quota=left)
        extra = "".join(block(n.strip(), NOTE_STYLE) for n in notes if n.strip())
        self.status.value = extra + block(line, STATUS_STYLE)


def playground(
    model: Model | Prompt,
    prompt: str = "",
    *,
    system: str | None = None,
    temperature: float = 0.7,
    top_p: float = 0.9,
    max_new_tokens: int = 128,
    seed: int | None = None,
) -> Playground:
    """Show a playground to chat with a model, or try a kit.Prompt on new inputs."""
    from kit.prompt import Prompt

    task = model if isinstance(model, Prompt) else None
    if task is not None:
        model, system = task.model, task.system if system is None else system
    return Playground(
        model, prompt, system=system or "", temperature=temperature, top_p=top_p,
        max_new_tokens=max_new_tokens, seed=seed, task=task,
    )  # fmt: skip
