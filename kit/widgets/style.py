"""The look shared by the kit's widgets: label widths, text blocks, error and note colours."""

from __future__ import annotations

import html

import ipywidgets as w

LABEL = {"description_width": "10.5em"}

TEXT_STYLE = (
    "white-space:pre-wrap;font-family:var(--jp-code-font-family,monospace);"
    "background:#f8fafc;border-left:3px solid #60a5fa;padding:4px 8px;margin:4px 0;"
    "line-height:1.5"
)
# ipywidgets' HTML has the line height of a one-line input: reset it for text.
ERROR_STYLE = "color:#b91c1c;font-weight:bold;line-height:1.5"
NOTE_STYLE = "color:#92400e;line-height:1.5"
STATUS_STYLE = "color:#555;font-size:90%;line-height:1.5"


def width(most: str) -> w.Layout:
    """Return a full-width layout capped at `most` (a CSS length)."""
    # A new Layout per widget: a module-level one would open a comm on import.
    return w.Layout(width="100%", max_width=most)


def block(text: str, style: str = TEXT_STYLE) -> str:
    """Return `text` escaped in a styled HTML block."""
    return f'<div style="{style}">{html.escape(text)}</div>'
