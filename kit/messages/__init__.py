"""One catalogue of every message a student or teacher sees, in Korean and English.

The texts live in data files beside this module (student.toml, hub.toml), so a
translator edits words, not code.
"""

from __future__ import annotations

import locale
import os
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LANGUAGES = ("en", "ko")
FILES = ("student.toml", "hub.toml")
_override: str | None = None


def _read_catalogue() -> dict[str, dict[str, str]]:
    """Return every message of the data files, checked to have both languages."""
    merged: dict[str, dict[str, str]] = {}
    for name in FILES:
        table = tomllib.loads((Path(__file__).parent / name).read_text("utf-8"))
        for key, texts in table.items():
            if key in merged or set(texts) != set(LANGUAGES):
                raise RuntimeError(
                    f"{name}: message {key!r} is repeated or lacks ko/en"
                )
            merged[key] = texts
    return merged


CATALOGUE: dict[str, dict[str, str]] = _read_catalogue()


def language() -> str:
    """Return the language students see: set_language(), KIT_LANG, then the locale."""
    if _override:
        return _override
    env = os.environ.get("KIT_LANG", "").strip().lower()[:2]
    if env in LANGUAGES:
        return env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    loc = locale.getlocale()[0] or ""
    return "ko" if loc.lower().startswith("ko") else "en"


def set_language(lang: str | None) -> None:
    """Show messages in 'ko' or 'en' (None returns to KIT_LANG / the locale)."""
    global _override
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    _override = lang


class Term(str):
    """A field that is itself a catalogue key, worded in whichever language is shown."""


def t(key: str, lang: str | None = None, **fields: object) -> str:
    """Return message `key` in `lang` (default: the current language), filled in."""
    lang = lang or language()
    filled = {k: t(v, lang) if isinstance(v, Term) else v for k, v in fields.items()}
    return CATALOGUE[key][lang].format(**filled)


def both(key: str, **fields: object) -> dict[str, str]:
    """Return message `key` in every language, for services that answer both."""
    return {lang: t(key, lang, **fields) for lang in LANGUAGES}
