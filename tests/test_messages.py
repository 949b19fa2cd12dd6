"""The ko/en message catalogue: complete, consistent, and in the student's language."""

from __future__ import annotations

import re
import string

import pytest

from kit import messages

SAME_IN_BOTH = {"doctor_gpu"}  # a proper noun, the same in Korean


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(messages.CATALOGUE))
def test_every_message_exists_in_both_languages_with_the_same_fields(key):
    """Does each message have Korean and English with the same placeholders?"""
    entry = messages.CATALOGUE[key]
    assert set(entry) == set(messages.LANGUAGES)
    assert _fields(entry["en"]) == _fields(entry["ko"])
    words = re.sub(r"\{[^}]*\}", "", entry["en"])
    if re.search(r"[A-Za-z]{3}", words) and key not in SAME_IN_BOTH:
        assert re.search(r"[\uac00-\ud7a3]", entry["ko"]), "ko text is not Korean"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KIT_LANG": "ko"}, "ko"),
        ({"KIT_LANG": "en", "LANG": "ko_KR.UTF-8"}, "en"),
        ({"LANG": "ko_KR.UTF-8"}, "ko"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
    ],
)
def test_language_follows_kit_lang_then_the_locale(env, expected, monkeypatch):
    """Is the language KIT_LANG when set, else the locale?"""
    for var in ("KIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert messages.language() == expected


def test_set_language_overrides_and_resets(monkeypatch):
    """Does set_language switch the language, and None return to the environment?"""
    monkeypatch.setenv("KIT_LANG", "en")
    messages.set_language("ko")
    try:
        assert "프롬프트" in messages.t("empty_prompt")
    finally:
        messages.set_language(None)
    assert "prompt" in messages.t("empty_prompt")
    with pytest.raises(ValueError):
        messages.set_language("fr")
