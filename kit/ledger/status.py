"""A student's quota today as a table: the same view in the kernel, the CLI and the hub."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from html import escape

from kit import messages
from kit.ledger.amounts import number


def text_width(text: str) -> int:
    """Return how many terminal columns `text` takes (Hangul takes two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def text_table(rows: list[list[str]]) -> str:
    """Return rows as aligned plain-text columns (first column left, others right)."""
    widths = [max(text_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - text_width(cell))
            cells.append(cell + pad if i == 0 else pad + cell)
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


@dataclass(frozen=True)
class Status:
    """A student's quota today: used, limit and left per kind, for show()."""

    student: str
    day: str
    reset: str
    exempt: bool
    rows: list[tuple[str, float, float | None, float | None]]  # kind, used, limit, left
    note: str = "quota_honour"  # the footnote's key: who keeps these limits

    def text(self, lang: str | None = None) -> str:
        """Return the status as a plain-text table in `lang`."""
        t = messages.t
        head = [t(f"quota_col_{c}", lang) for c in ("kind", "used", "limit", "left")]
        body = [
            [
                t(f"kind_{k}", lang),
                number(u),
                limit_text(lim, lang),
                limit_text(left, lang),
            ]
            for k, u, lim, left in self.rows
        ]
        title = t("quota_status_title", lang, **self._fields())
        note = t("quota_exempt", lang, student=self.student) if self.exempt else ""
        lines = [title, text_table([head, *body]), note, t(self.note, lang)]
        return "\n".join(line for line in lines if line)

    def _fields(self) -> dict[str, str]:
        return {"student": self.student, "day": self.day, "reset": self.reset}

    def __str__(self) -> str:
        return self.text()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        t = messages.t
        cols = ("kind", "used", "limit", "left")
        head = "".join(f"<th>{escape(t(f'quota_col_{c}'))}</th>" for c in cols)
        body = "".join(
            f"<tr><td style='text-align:left'>{escape(t(f'kind_{k}'))}</td>"
            + "".join(f"<td>{escape(limit_text(v))}</td>" for v in (used, lim, left))
            + "</tr>"
            for k, used, lim, left in self.rows
        )
        note = t("quota_exempt", student=self.student) if self.exempt else ""
        return (
            f"<div><b>{escape(t('quota_status_title', **self._fields()))}</b>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            + (f"<p>{escape(note)}</p>" if note else "")
            + f"<p><small>{escape(t(self.note))}</small></p></div>"
        )


def limit_text(value: float | None, lang: str | None = None) -> str:
    """Return a limit as text: the number, or 'unlimited' in `lang`."""
    return messages.t("unlimited", lang) if value is None else number(value)
