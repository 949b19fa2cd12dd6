"""Interactive widgets: a chat playground and a clickable next-token explorer."""

from __future__ import annotations

import html
import re
from contextlib import redirect_stderr
from typing import TYPE_CHECKING

import ipywidgets as w

from kit import quota
from kit.errors import KitError, SettingError
from kit.messages import t
from kit.results import Reply, TokenProbs, visible

if TYPE_CHECKING:
    from kit.model import Model
    from kit.prompt import Prompt

_LABEL = {"description_width": "10.5em"}

_TEXT_STYLE = (
    "white-space:pre-wrap;font-family:var(--jp-code-font-family,monospace);"
    "background:#f8fafc;border-left:3px solid #60a5fa;padding:4px 8px;margin:4px 0;"
    "line-height:1.5"
)
# ipywidgets' HTML has the line height of a one-line input: reset it for text.
_ERROR_STYLE = "color:#b91c1c;font-weight:bold;line-height:1.5"
_NOTE_STYLE = "color:#92400e;line-height:1.5"
_STATUS_STYLE = "color:#555;font-size:90%;line-height:1.5"
_BYTE = re.compile(
    r"<0x[0-9A-F]{2}>"
)  # how kit.engines.tokens shows part of a character


def _width(most: str) -> w.Layout:
    # A new Layout per widget: a module-level one would open a comm on import.
    return w.Layout(width="100%", max_width=most)


def _block(text: str, style: str = _TEXT_STYLE) -> str:
    return f'<div style="{style}">{html.escape(text)}</div>'


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
            description=t("widget_prompt"), rows=3, style=_LABEL, layout=_width("46em"),
        )  # fmt: skip
        self.system = w.Textarea(
            value=system, placeholder=t("widget_system_placeholder"),
            description=t("widget_system"), rows=2, style=_LABEL, layout=_width("46em"),
        )  # fmt: skip
        self.temperature = w.FloatSlider(
            value=temperature, min=0.0, max=2.0, step=0.1,
            description=t("widget_temperature"), style=_LABEL, layout=_width("32em"),
        )  # fmt: skip
        self.top_p = w.FloatSlider(
            value=top_p, min=0.05, max=1.0, step=0.05,
            description=t("widget_top_p"), style=_LABEL, layout=_width("32em"),
        )  # fmt: skip
        self.max_new_tokens = w.IntSlider(
            value=max_new_tokens, min=1, max=512,
            description=t("widget_max_tokens"), style=_LABEL, layout=_width("32em"),
        )  # fmt: skip
        self.seed = w.IntText(
            value=-1 if seed is None else seed, description=t("widget_seed"),
            style=_LABEL, layout=w.Layout(width="18em"),
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
            self.output.value = _block("".join(streamed))

        self.button.disabled = True
        self.output.value = ""
        self.status.value = _block(t("widget_running"), _STATUS_STYLE)
        self.reply = None
        try:
            # Notes such as "quota nearly used up" go to stderr: show them here.
            with redirect_stderr(_Sink(notes.append)):
                self.reply = self.model.chat(
                    self.checked_conversation(), stream=show_stream, **self.settings()
                )
        except KitError as err:
            self.output.value = _block(str(err), _ERROR_STYLE)
        except KeyboardInterrupt:  # the notebook's stop button
            self.output.value = _block("".join(streamed)) + _block(
                t("widget_stopped"), _ERROR_STYLE
            )
        except Exception as err:  # not a normal mistake: say so, and keep the trace
            problem = f"{type(err).__name__}: {err}"
            self.output.value = _block(
                t("widget_unexpected", error=problem), _ERROR_STYLE
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
            self.output.value = _block(self.reply)
            speed = self.reply.tokens_per_second
            line = t("widget_status", tokens=self.reply.tokens, speed=speed, quota=left)
        extra = "".join(_block(n.strip(), _NOTE_STYLE) for n in notes if n.strip())
        self.status.value = extra + _block(line, _STATUS_STYLE)


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


class NextTokenExplorer(w.VBox):
    """Type a text, see the most likely next tokens, click one to append it."""

    def __init__(self, model: Model, text: str = "", top: int = 8) -> None:
        if isinstance(top, bool) or not isinstance(top, int):
            raise SettingError("bad_type", name="top", kind="int", value=top)
        if not 1 <= top <= 100:
            raise SettingError(
                "bad_number", name="top", low=1, high=100, value=top, example=8
            )
        self.model = model
        self.top = top
        self.probs: TokenProbs | None = None
        self.history: list[str] = []  # texts before each click, for Undo
        self._clicked = text  # the text our own last click or undo made
        self.text = w.Textarea(
            value=text, placeholder=t("widget_text_placeholder"),
            description=t("widget_text"), continuous_update=False, rows=2,
            style=_LABEL, layout=_width("46em"),
        )  # fmt: skip
        self.text.add_class("baeum-text")
        self.undo = w.Button(description=t("widget_undo"), icon="undo", disabled=True)
        self.undo.add_class("baeum-undo")
        self.undo.on_click(lambda _: self.undo_click())
        self.message = w.HTML()
        self.message.add_class("baeum-message")
        self.buttons: list[w.Button] = []
        self.bars: list[w.HTML] = []
        rows = []
        for i in range(top):
            button = w.Button(layout=w.Layout(width="12em"))
            button.style.font_family = "monospace"
            button.add_class("baeum-token")
            button.on_click(lambda _, i=i: self.click_token(i))
            bar = w.HTML(layout=w.Layout(width="22em"))
            self.buttons.append(button)
            self.bars.append(bar)
            rows.append(w.HBox([button, bar], layout=w.Layout(align_items="center")))
        self.rows = rows
        self.text.observe(self._on_text, names="value")
        hint = w.HTML(_block(t("widget_next_hint"), _STATUS_STYLE))
        super().__init__([self.text, w.HBox([hint, self.undo]), self.message, *rows])
        self.add_class("baeum-next-tokens")
        self.refresh()

    def refresh(self) -> TokenProbs | None:
        """Ask the model for the next tokens after the text and redraw the bars."""
        self.undo.disabled = not self.history
        self.probs, message = None, ""
        if self.text.value.strip():
            try:
                self.probs = self.model.next_token_probs(self.text.value, top=self.top)
            except KitError as err:
                message = _block(str(err), _ERROR_STYLE)
        self.message.value = message
        pieces = self.probs.pieces if self.probs else []
        for i, row in enumerate(self.rows):
            row.layout.display = None if i < len(pieces) else "none"
            if i < len(pieces):
                button, piece = self.buttons[i], pieces[i]
                button.description = visible(piece) or "∅"
                # Part of a character (Hangul is often split into bytes): no text
                # to append until more tokens finish it.
                button.disabled = _is_fragment(piece)
                button.tooltip = t("widget_byte_piece") if button.disabled else ""
                self.bars[i].value = _bar(self.probs.probs[i])
        return self.probs

    def _on_text(self, change: dict) -> None:
        if change["new"] != self._clicked:  # typed by hand: Undo would lose it
            self.history.clear()
        self.refresh()

    def click_token(self, index: int) -> str:
        """Append the `index`-th most likely token to the text; return the new text."""
        if self.probs is None or not 0 <= index < len(self.probs):
            return self.text.value
        if _is_fragment(self.probs.pieces[index]):
            return self.text.value
        self.history.append(self.text.value)
        self._clicked = self.text.value + self.probs.pieces[index]
        self.text.value = self._clicked  # the observer refreshes
        return self.text.value

    def undo_click(self) -> str:
        """Take back the last clicked token; return the text."""
        if self.history:
            self._clicked = self.history.pop()
            self.text.value = self._clicked
        self.undo.disabled = not self.history
        return self.text.value


def _is_fragment(piece: str) -> bool:
    return _BYTE.search(piece) is not None


def _bar(prob: float) -> str:
    return (
        '<div style="display:flex;align-items:center;gap:6px">'
        f'<div style="background:#60a5fa;height:14px;width:{prob * 16:.2f}em"></div>'
        f'<span style="font-size:90%">{prob:.1%}</span></div>'
    )


def next_token_explorer(
    model: Model, text: str = "", top: int = 8
) -> NextTokenExplorer:
    """Show the most likely next tokens after a text; click one to append it."""
    return NextTokenExplorer(model, text, top)


__all__ = ["NextTokenExplorer", "Playground", "next_token_explorer", "playground"]
