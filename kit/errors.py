"""Friendly errors: one message from the catalogue, no stack trace in a notebook."""

from __future__ import annotations

from kit import messages


class KitError(Exception):
    """A normal mistake or missing piece, explained in the student's language."""

    def __init__(self, key: str, **fields: object) -> None:
        self.key = key
        self.fields = fields
        super().__init__(messages.t(key, **fields))

    def in_language(self, lang: str) -> str:
        """Return this error's message in `lang`."""
        return messages.t(self.key, lang, **self.fields)

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a stack trace: students see one line.
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self}"]


class ModelNotAvailable(KitError):
    """The requested model's weights are not on this machine."""


class SettingError(KitError, ValueError):
    """A generation or training setting is out of range or of the wrong type."""


class QuotaExceeded(KitError):
    """Today's quota for this student does not cover the request."""


class NotAllowed(KitError):
    """The caller may not do this (another student's adapter, a teacher's page)."""


class NotFound(KitError):
    """The adapter or job asked for does not exist."""


class ServiceUnavailable(KitError):
    """The Baeum service cannot be reached, or is starting or stopping."""
