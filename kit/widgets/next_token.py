"""NextTokenExplorer: type a text, see the likely next tokens, click one to append it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import ipywidgets as w

from kit.errors import KitError, SettingError
from kit.messages import t
from kit.results import TokenProbs, visible
from kit.widgets.style import ERROR_STYLE, LABEL, STATUS_STYLE, block, width

if TYPE_CHECKING:
    from kit.model import Model

_BYTE = re.compile(
    r"<0x[0-9A-F]{2}>"
)  # how kit.engines.tokens shows part of a character


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
            style=LABEL, layout=width("46em"),
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
        hint = w.HTML(block(t("widget_next_hint"), STATUS_STYLE))
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
                message = block(str(err), ERROR_STYLE)
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
    """Return True if `piece` is part of a character (its bytes shown as <0x..>)."""
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
