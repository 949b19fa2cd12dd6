"""kit.grading: fair, repeatable checks for nbgrader grading cells on generative output.

A grading cell ends with `marks.total()`: nbgrader reads the number it returns as the
cell's (partial) score. Everything here writes feedback to stdout only, because
nbgrader gives zero points to a grading cell that writes anything to stderr.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from kit import messages, quota
from kit.checks import check_number
from kit.errors import SettingError
from kit.grading.hand_in import hand_in
from kit.model import Model
from kit.prompt import Prompt

__all__ = [
    "Marks",
    "accuracy",
    "hand_in",
    "has_keys",
    "matches",
    "parse_json",
    "regenerate",
    "scaled",
    "within",
]

GREEDY = {"temperature": 0.0}


def regenerate(
    model: Model | Prompt,
    prompt: str | Sequence[Mapping[str, str]] | Mapping,
    *,
    system: str | None = None,
    max_new_tokens: int = 64,
) -> str:
    """Run a student's prompt again, greedily and quota-free, and return the answer."""
    check_number("max_new_tokens", max_new_tokens, 1, 1024, 64, integer=True)
    with quota.exempt():
        if isinstance(model, Prompt):
            reply = model(prompt, max_new_tokens=max_new_tokens, stream=False, **GREEDY)
        else:
            reply = model.chat(prompt, system=system, max_new_tokens=max_new_tokens,
                               stream=False, **GREEDY)  # fmt: skip
    return str(reply)


def accuracy(model_or_prompt: Model | Prompt, rows, *, scorer="label") -> float:
    """Return the share of `rows` answered right, quota-free and without a progress bar."""
    from kit.evaluate import evaluate

    with quota.exempt():
        return evaluate(model_or_prompt, rows, scorer=scorer, progress=False).score


def parse_json(text: str, *, strict: bool = False) -> object | None:
    """Return the JSON value in a model's answer, else None (strict: nothing around it)."""
    if strict:
        try:
            return json.loads(str(text).strip())
        except ValueError:
            return None
    cleaned = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", str(text))
    try:
        return json.loads(cleaned)
    except ValueError:
        found = re.search(r"\{.*\}|\[.*\]", cleaned, re.DOTALL)
        if not found:
            return None
        try:
            return json.loads(found.group(0))
        except ValueError:
            return None


def has_keys(value: object, keys: Sequence[str]) -> bool:
    """Return True if `value` is a JSON object with every one of `keys`."""
    return isinstance(value, dict) and all(key in value for key in keys)


def matches(text: str, pattern: str) -> bool:
    """Return True if the regular expression `pattern` is found in `text`."""
    return re.search(pattern, str(text), re.IGNORECASE | re.MULTILINE) is not None


def within(value: float, target: float, tolerance: float) -> bool:
    """Return True if `value` is within `tolerance` of `target` (a tolerance band)."""
    try:
        return abs(float(value) - float(target)) <= tolerance
    except (TypeError, ValueError):
        return False


def scaled(score: float, *, zero_at: float, full_at: float) -> float:
    """Return the share of credit for a score: 0 at `zero_at`, 1 at `full_at`, linear between."""
    if not zero_at < full_at:
        raise SettingError("grading_band", zero_at=zero_at, full_at=full_at)
    return min(1.0, max(0.0, (float(score) - zero_at) / (full_at - zero_at)))


class Marks:
    """The points of one grading cell: record checks, then end the cell with total().

    `points` is the cell's worth; students' copies lack the hidden checks, so their
    checks may add up to less, but never to more.
    """

    def __init__(self, points: float) -> None:
        check_number("points", points, 0.5, 100, 2)
        self.points = float(points)
        self.lines: list[str] = []
        self.earned = 0.0
        self.possible = 0.0

    def check(self, ok: bool, points: float, *, en: str, ko: str) -> bool:
        """Give `points` if `ok`; note the check for the student either way."""
        return self.partial(1.0 if ok else 0.0, points, en=en, ko=ko) == points

    def partial(self, share: float, points: float, *, en: str, ko: str) -> float:
        """Give `share` (0..1) of `points`, e.g. scaled(accuracy, ...), and note it."""
        share = min(1.0, max(0.0, float(share)))
        got = round(share * points, 2)
        self.earned += got
        self.possible += points
        mark = "✓" if share >= 1 else ("◐" if share > 0 else "✗")
        text = ko if messages.language() == "ko" else en
        self.lines.append(f"{mark} {text} ({_num(got)}/{_num(points)})")
        return got

    def total(self) -> float:
        """Print the feedback and return the cell's points (nbgrader's partial credit)."""
        if self.possible > self.points + 1e-6:
            raise SettingError("grading_points", possible=_num(self.possible),
                               points=_num(self.points))  # fmt: skip
        print("\n".join(self.lines))
        got = round(self.earned, 2)
        print(messages.t("grading_total", got=_num(got), points=_num(self.possible)))
        return got


def _num(value: float) -> str:
    return f"{value:g}"
