"""Quota kinds and amounts: checking them, formatting them, the error when one runs out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

from kit import messages
from kit.errors import QuotaExceeded

KINDS = ("generations", "tokens", "finetune_steps", "gpu_seconds")
EPSILON = 1e-9  # float slack so 0.1 + 0.2 GPU-seconds never trips a limit


def utcnow() -> datetime:
    """Return the current time in UTC (the default clock)."""
    return datetime.now(timezone.utc)


def number(value: float | None) -> str:
    """Format an amount for people: 49,120 or 12.5; None is 'unlimited'."""
    if value is None:
        return messages.t("unlimited")
    if abs(value - round(value)) < 0.05:
        return f"{round(value):,}"
    return f"{value:,.1f}"


def exceeded(
    kind: str, used: float, limit: float, need: float, reset: str, **extra: object
) -> QuotaExceeded:
    """Build the friendly error for `need` more of `kind` when `used` of `limit`."""
    left = max(0.0, limit - used)
    key = "quota_exceeded" if left <= EPSILON else "quota_too_big"
    fields = dict(used=number(used), limit=number(limit), left=number(left))
    # kind_id and raw numbers let a service re-word the message in another language.
    return QuotaExceeded(
        key,
        kind=messages.Term(f"kind_{kind}"),
        kind_id=kind,
        need=number(need),
        reset=reset,
        **fields,
        **extra,
    )


def check_amounts(amounts: Mapping[str, float]) -> None:
    """Raise ValueError unless every kind is known and every amount a number >= 0."""
    for kind, value in amounts.items():
        if kind not in KINDS:
            raise ValueError(f"unknown quota kind {kind!r}; kinds are {KINDS}")
        number_ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number_ok or not 0 <= value < float("inf"):  # NaN fails too
            raise ValueError(f"quota amount {kind}={value!r} must be a number >= 0")
