"""Quotas in hub mode: your status, the class's usage and the limits, from the service."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from urllib.parse import urlencode

from kit import messages
from kit.cli.quota_report import HEADERS, cell, report
from kit.errors import KitError
from kit.hub.http import call, service_url
from kit.ledger.amounts import KINDS
from kit.ledger.policy import Policy
from kit.ledger.status import Status, text_table


def service_status() -> Status:
    """Return your quota today as the service's ledger has it."""
    data = call("GET", "api/quota")
    rows = [(str(k), float(used), _limit(limit), _limit(left))
            for k, used, limit, left in data["rows"]]  # fmt: skip
    return Status(str(data["student"]), str(data["day"]), str(data["reset"]),
                  bool(data.get("exempt")), rows, note="remote_quota_note")  # fmt: skip


def _limit(value) -> float | None:
    return None if value is None else float(value)


def _fail(error: KitError) -> int:
    print(str(error), file=sys.stderr)
    return 2


def cmd_show(args: argparse.Namespace) -> int:
    """Print your status, or (teachers, --class/--student) everyone's usage and limits."""
    try:
        if not (args.whole_class or args.student or args.day):
            print(service_status().text())
            return 0
        if args.day:
            try:
                date.fromisoformat(args.day)
            except ValueError:
                print(messages.t("quota_cli_bad_day", value=args.day), file=sys.stderr)
                return 2
        query = "?" + urlencode({"day": args.day}) if args.day else ""
        data = call("GET", "api/quota/class" + query)
    except KitError as error:
        return _fail(error)
    students, limits = data["students"], data["limits"]
    names = [args.student] if args.student else sorted(students)
    rows = [HEADERS]
    for name in names:
        used = students.get(name, {})
        limit = limits.get(name, data.get("class", {}))
        rows.append([name] + [cell(float(used.get(k, 0)), _limit(limit.get(k)))
                              for k in KINDS])  # fmt: skip
    reset, _, zone = str(data["reset"]).partition(" (")
    source = messages.t("remote_cli_source", url=service_url())
    print(messages.t("quota_cli_header", day=data["day"], zone=zone.rstrip(")") or "?",
                     reset=reset, source=source))  # fmt: skip
    print(text_table(rows))
    if not any(students.values()) and not args.student:
        print(messages.t("quota_cli_empty", day=data["day"]))
    return 0


def cmd_set(args: argparse.Namespace, changes: dict[str, int | float]) -> int:
    """Change class or student limits in the service's quota file (teachers)."""
    if args.timezone:
        print(messages.t("remote_cli_no_timezone"), file=sys.stderr)
        return 2
    body: dict = {"limits": changes}
    if args.student:
        body["student"] = args.student
    try:
        before = _policy(call("GET", "api/quota/class"))
        after = _policy(call("PUT", "api/quota/limits", body))
    except KitError as error:
        return _fail(error)
    report(before, after, args.student, changes)
    print(messages.t("remote_cli_saved", url=service_url()))
    return 0


def _policy(data: dict) -> Policy:
    """Return a Policy from the service's JSON (class usage, or the new policy)."""
    table = {k: _limit(v) for k, v in data["class"].items()}
    others = data.get("students") if "timezone" in data else data.get("limits")
    students = {name: {k: _limit(v) for k, v in limits.items()}
                for name, limits in (others or {}).items()}  # fmt: skip
    return Policy(limits=table, students=students, zone_name="-")
