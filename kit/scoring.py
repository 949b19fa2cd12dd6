"""Scorers: how one model output is marked against one labelled row (0.0 to 1.0)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping

from kit.errors import SettingError

Scorer = Callable[[str, Mapping], float]


def normalise(text: str) -> str:
    """Return text folded for comparison: NFC, lower case, single spaces, no end dots."""
    text = unicodedata.normalize("NFC", text).casefold().replace("_", " ")
    text = re.sub(r"(?<=\w)-(?=\w)", "", text)  # "Sci-Fi" names the label "scifi"
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(" .!?。\"'`")


def find_label(
    output: str, labels: Iterable[str], names: Mapping[str, str] | None = None
) -> str | None:
    """Return the label named earliest in `output` (by id or display name), or None."""
    names = names or {}
    folded = " " + normalise(output) + " "
    best: tuple[int, str] | None = None
    for label in labels:
        # "lost_card" is also found written "lost-card" or "lostcard".
        for spelling in {label, names.get(label, label), label.replace("_", "")}:
            word = normalise(spelling)
            if not word:
                continue
            # Whole words for Latin labels; Korean particles follow nouns, so prefix only.
            pattern = rf"(?<![\w]){re.escape(word)}" + (
                "" if _hangul(word) else r"(?!\w)"
            )
            match = re.search(pattern, folded)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), label)
    return best[1] if best else None


def _hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def exact(output: str, row: Mapping) -> float:
    """Score 1 when the output equals the expected answer, ignoring case and spacing."""
    return float(normalise(output) == normalise(str(row["label"])))


def json_valid(output: str, row: Mapping) -> float:
    """Score 1 when the output is valid JSON (a ```json fence around it is allowed)."""
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", output.strip())
    try:
        json.loads(text)
    except ValueError:
        return 0.0
    return 1.0


def regex(pattern: str | re.Pattern) -> Scorer:
    """Return a scorer giving 1 when the output matches `pattern` anywhere."""
    compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
    return lambda output, row: float(compiled.search(output) is not None)


def label_scorer(labels: list[str], names: Mapping[str, str]) -> Scorer:
    """Return a scorer giving 1 when the first label named in the output is right."""
    return lambda output, row: float(find_label(output, labels, names) == row["label"])


def pick(scorer, labels: list[str], names: Mapping[str, str]) -> tuple[str, Scorer]:
    """Return (name, scorer function) for a scorer given by name, regex or function."""
    if callable(scorer) and not isinstance(scorer, re.Pattern):
        return getattr(scorer, "__name__", "custom"), _bounded(scorer)
    if isinstance(scorer, re.Pattern):
        return "regex", regex(scorer)
    if scorer == "label":
        return "label", label_scorer(labels, names)
    if scorer == "exact":
        return "exact", exact
    if scorer == "json":
        return "json", json_valid
    if isinstance(scorer, str) and scorer.startswith("regex:"):
        return "regex", regex(scorer.removeprefix("regex:"))
    raise SettingError("bad_scorer", value=scorer)


def _bounded(function: Callable) -> Scorer:
    """Wrap a custom scorer so that True/False and numbers become a 0..1 score."""

    def score(output: str, row: Mapping) -> float:
        value = float(function(output, row))
        if not 0.0 <= value <= 1.0:
            raise SettingError("bad_score", value=value)
        return value

    return score
