"""The class usage table and the report of changed limits, shared by local and hub mode."""

from __future__ import annotations

from kit import messages
from kit.ledger.amounts import number
from kit.ledger.policy import Policy
from kit.ledger.status import limit_text

HEADERS = [
    "student 학생",
    "generations 생성",
    "tokens 토큰",
    "fine-tune steps 파인튜닝",
    "GPU-seconds GPU초",
]


def cell(used: float, limit: float | None) -> str:
    """Return one usage cell of the class table: used/limit (∞: unlimited)."""
    return f"{number(used)}/{'∞' if limit is None else number(limit)}"


def report(before: Policy, after: Policy, student: str | None, changes: dict) -> None:
    """Print each limit that changed, old and new, for the class or one student."""
    target = messages.t("quota_cli_class")
    if student:
        target = messages.t("quota_cli_student", student=student)
    old, new = before.limits, after.limits
    if student:
        old, new = before.limits_for(student), after.limits_for(student)
    for kind in changes:
        print(
            messages.t(
                "quota_cli_changed",
                target=target,
                kind=kind,
                old=limit_text(old[kind]),
                new=limit_text(new[kind]),
            )
        )
    if before.zone_name != after.zone_name:
        print(
            messages.t(
                "quota_cli_zone_changed", old=before.zone_name, new=after.zone_name
            )
        )
