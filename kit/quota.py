"""Daily quotas per student: the teacher's limits, what is left, charging work."""

from __future__ import annotations

import contextvars
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from kit import messages
from kit.hub.http import service_url
from kit.ledger.amounts import KINDS, check_amounts, utcnow
from kit.ledger.policy import (  # noqa: F401  (re-exported: kit.quota is the public face)
    DEFAULTS,
    Limits,
    Policy,
    current_student,
    file_stamp,
    ledger_url,
    load_policy,
    local_zone,
    parse_policy,
    quota_file,
)
from kit.ledger.status import Status, limit_text, text_table  # noqa: F401  (public face)
from kit.ledger.store import Ledger


class Charge:
    """One piece of work's reservation, and what it records as actually used."""

    def __init__(self, reserved: dict[str, float]) -> None:
        self.reserved = reserved
        self.recorded: dict[str, float] = {}
        self.seconds = 0.0  # wall time inside the block, set on exit

    def used(self, **amounts: float) -> None:
        """Record the total used so far per kind, e.g. c.used(tokens=57)."""
        check_amounts(amounts)
        self.recorded.update({k: float(v) for k, v in amounts.items()})


class Quota:
    """One student's daily quota, checked against a ledger."""

    def __init__(
        self,
        policy: Policy,
        ledger: Ledger,
        student: str,
        exempt: bool = False,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.policy = policy
        self.ledger = ledger
        self.student = student
        self._exempt = exempt
        self.now = now

    @property
    def exempt(self) -> bool:
        """Return True when nothing is charged or blocked (grading)."""
        return self._exempt or _exempt_depth > 0

    def day(self) -> str:
        """Return today's date (ISO) in the class time zone."""
        return self.now().astimezone(self.policy.zone).date().isoformat()

    def reset_time(self) -> datetime:
        """Return when today's quota resets: the next midnight in the class zone."""
        today = self.now().astimezone(self.policy.zone).date()
        tomorrow = today + timedelta(days=1)
        return datetime(
            tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=self.policy.zone
        )

    def reset_text(self) -> str:
        """Return the reset time for people, e.g. '2026-11-24 00:00 (Asia/Seoul)'."""
        return f"{self.reset_time():%Y-%m-%d %H:%M} ({self.policy.zone_name})"

    def limits(self) -> Limits:
        """Return this student's limit per kind (None: unlimited)."""
        return self.policy.limits_for(self.student)

    def usage(self) -> dict[str, float]:
        """Return what this student has used (or holds reserved) today, per kind."""
        return self.ledger.usage(self.student, self.day())

    def left(self, kind: str) -> float | None:
        """Return how much of `kind` is left today (None: unlimited or exempt)."""
        return self.remaining()[kind]

    def remaining(self) -> dict[str, float | None]:
        """Return how much is left today per kind (None: unlimited or exempt)."""
        if self.exempt:
            return {k: None for k in KINDS}
        used, limits = self.usage(), self.limits()
        return {
            k: None if limits[k] is None else max(0.0, limits[k] - used[k])
            for k in KINDS
        }

    @contextmanager
    def charge(self, *, on_gpu: bool = False, **amounts: float) -> Iterator[Charge]:
        """Reserve `amounts` for the block, then charge what it records as used."""
        check_amounts(amounts)
        if on_gpu:
            amounts.setdefault("gpu_seconds", 0.0)  # so an exhausted limit blocks
        charge = Charge({k: float(v) for k, v in amounts.items()})
        if self.exempt:
            yield charge  # grading: no reservation, nothing written, never blocked
            return
        rid = self.ledger.reserve(
            self.student, self.day(), amounts, self.limits(), reset=self.reset_text()
        )
        started = time.monotonic()
        try:
            yield charge
        except BaseException:  # KeyboardInterrupt too: the stop button mid-generation
            used = self._used(charge, on_gpu, started, {})
            if used:
                self.ledger.settle(rid, used)
            else:
                self.ledger.release(rid)
            raise
        self.ledger.settle(rid, self._used(charge, on_gpu, started, charge.reserved))

    @staticmethod
    def _used(charge: Charge, on_gpu: bool, started: float, base: dict) -> dict:
        charge.seconds = time.monotonic() - started
        used = {**base, **charge.recorded}
        if on_gpu and "gpu_seconds" not in charge.recorded:
            used["gpu_seconds"] = charge.seconds
        return used

    def status(self) -> Status:
        """Return used, limit and left per kind today."""
        used, limits, left = self.usage(), self.limits(), self.remaining()
        rows = [(k, used[k], limits[k], left[k]) for k in KINDS]
        return Status(self.student, self.day(), self.reset_text(), self.exempt, rows)

    def summary(self, lang: str | None = None) -> str:
        """Return one line: what is left today and when it resets."""
        t = messages.t
        parts = [
            t(
                "quota_amount",
                lang,
                amount=limit_text(v, lang),
                kind=t(f"kind_{k}", lang),
            )
            for k, v in self.remaining().items()
        ]
        summary = " · ".join(parts)
        text = t("quota_left", lang, summary=summary, reset=self.reset_text())
        if self.exempt:
            text += " " + messages.t("quota_exempt", lang, student=self.student)
        return text

    def _repr_html_(self) -> str:
        return self.status()._repr_html_()

    def __repr__(self) -> str:
        return f"<Quota {self.student!r} exempt={self.exempt} {self.ledger.url!r}>"


_current: Quota | None = None
_lock = threading.Lock()
_exempt_depth = 0  # > 0 inside exempt(): process-wide, as the grader's kernel is


_acting: contextvars.ContextVar[Quota | None] = contextvars.ContextVar(
    "kit_quota_acting", default=None
)


@contextmanager
def acting_as(account: Quota) -> Iterator[Quota]:
    """Charge `account` for the work in this block (this thread or task only)."""
    # The Baeum service serves many students in one process: each request or job
    # runs as its student, so the kit's own charging code needs no second path.
    token = _acting.set(account)
    try:
        yield account
    finally:
        _acting.reset(token)


def current() -> Quota:
    """Return this kernel's Quota (built once from the environment)."""
    global _current
    acting = _acting.get()
    if acting is not None:
        return acting
    with _lock:
        path = quota_file()
        q = _current
        if q is None or q.policy.path != path or q.policy.stamp != file_stamp(path):
            # First use, or the teacher changed the file: reread it, keep the ledger.
            ledger = q.ledger if q is not None else Ledger(ledger_url())
            exempt_env = os.environ.get("KIT_QUOTA_EXEMPT", "").strip().lower()
            _current = Quota(
                load_policy(path),
                ledger,
                current_student() if q is None else q.student,
                exempt=exempt_env in ("1", "true", "yes", "on"),
            )
        return _current


def reset_current() -> None:
    """Forget the cached Quota, so the next current() rereads the environment."""
    global _current
    with _lock:
        _current = None


def remaining() -> dict[str, float | None]:
    """Return how much of each kind you have left today (None: unlimited)."""
    if service_url() is not None:  # hub mode: the service's ledger is the real one
        from kit.hub.quota import service_status

        return {kind: left for kind, _, _, left in service_status().rows}
    return current().remaining()


def show() -> None:
    """Show your quota today: used, limit and left, as a table."""
    if service_url() is not None:  # hub mode: ask the service
        from kit.hub.quota import service_status

        status = service_status()
    else:
        status = current().status()
    try:
        from IPython.display import display
    except ImportError:
        print(status)
    else:
        display(status)  # prints the plain table outside a notebook


@contextmanager
def exempt() -> Iterator[None]:
    """Charge and block nothing inside this block: for autograding."""
    global _exempt_depth
    with _lock:
        _exempt_depth += 1
    try:
        yield
    finally:
        with _lock:
            _exempt_depth -= 1
