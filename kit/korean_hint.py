"""A one-line hint, in Korean, when Korean reaches a model that reads it badly."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from kit import messages
from kit.models.catalogue import CATALOGUE, KOREAN_DEFAULT

_hinted: set[str] = set()  # once per model and process: a hint, not a nag


def hangul_share(text: str | Sequence[str]) -> float:
    """Return the share of the letters in `text` (or texts) that are Hangul syllables."""
    text = text if isinstance(text, str) else " ".join(text)
    letters = [ch for ch in text if ch.isalpha()]
    return sum("가" <= ch <= "힣" for ch in letters) / len(letters) if letters else 0.0


def hint_if_korean(model_name: str, conversation: Sequence[dict[str, str]]) -> None:
    """Print the hint if the user wrote Korean to a catalogue model without Korean."""
    entry = CATALOGUE.get(model_name)
    if entry is None or entry.korean or model_name in _hinted:
        return
    text = " ".join(m["content"] for m in conversation if m["role"] == "user")
    if hangul_share(text) >= 0.5:
        _hinted.add(model_name)
        print(messages.t("korean_model_hint", "ko", model=model_name,
                         korean=KOREAN_DEFAULT), file=sys.stderr)  # fmt: skip
