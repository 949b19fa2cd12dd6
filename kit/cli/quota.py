"""`kit quota show` and `kit quota set`: teachers see usage and set daily limits."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from kit import messages
from kit.cli.quota_report import HEADERS, cell, report
from kit.errors import KitError
from kit.hub.http import service_url
from kit.ledger.amounts import KINDS
from kit.ledger.policy import (
    DEFAULTS,
    Policy,
    ledger_url,
    load_policy,
    parse_policy,
    quota_file,
)
from kit.ledger.status import text_table
from kit.ledger.store import Ledger
from kit.toml_files import read_toml

UNLIMITED_WORDS = ("-1", "unlimited", "none", "무제한")


def add_subcommands(subparsers) -> None:
    """Add the `quota` command (show, set) to an argparse subparsers object."""
    t = messages.t
    quota = subparsers.add_parser("quota", help=t("quota_cli_help"))
    quota.set_defaults(func=cmd_show, student=None, day=None, whole_class=False)
    inner = quota.add_subparsers(dest="quota_command")
    show = inner.add_parser("show", help=t("quota_cli_help_show"))
    show.add_argument("--student", help=t("quota_cli_help_student"))
    show.add_argument("--day", help=t("quota_cli_help_day"))
    show.add_argument("--class", dest="whole_class", action="store_true",
                      help=t("remote_cli_help_class"))  # fmt: skip
    show.set_defaults(func=cmd_show)
    change = inner.add_parser("set", help=t("quota_cli_help_set"))
    change.add_argument("--student", help=t("quota_cli_help_student"))
    change.add_argument("--timezone", help=t("quota_cli_help_zone"))
    change.add_argument(
        "pairs", nargs="*", metavar="KIND=VALUE", help=t("quota_cli_help_pairs")
    )
    change.set_defaults(func=cmd_set)


def _fail(key: str, **fields: object) -> int:
    print(messages.t(key, **fields), file=sys.stderr)
    return 2


def cmd_show(args: argparse.Namespace) -> int:
    """Print every student's usage on a day next to their limits."""
    if service_url() is not None:  # hub mode: the service keeps ledger and limits
        from kit.hub import quota as remote_quota

        return remote_quota.cmd_show(args)
    try:
        policy = load_policy()
    except KitError as err:
        return _fail(err.key, **err.fields)
    today = datetime.now(policy.zone).date()
    try:
        day = date.fromisoformat(args.day) if args.day else today
    except ValueError:
        return _fail("quota_cli_bad_day", value=args.day)
    usage = Ledger(ledger_url()).usage_by_student(day.isoformat())
    names = sorted(set(usage) | set(policy.students))
    if args.student:
        names = [args.student]
    zeros = {k: 0.0 for k in KINDS}
    rows = [HEADERS]
    for name in names:
        used, limits = usage.get(name, zeros), policy.limits_for(name)
        rows.append([name] + [cell(used[k], limits[k]) for k in KINDS])
    reset = f"{day + timedelta(days=1)} 00:00"
    source = str(policy.path)
    if policy.stamp is None:
        source = messages.t("quota_cli_no_file", path=policy.path)
    print(
        messages.t(
            "quota_cli_header",
            day=day.isoformat(),
            zone=policy.zone_name,
            reset=reset,
            source=source,
        )
    )
    print(text_table(rows))
    if not usage and not args.student:
        print(messages.t("quota_cli_empty", day=day.isoformat()))
    return 0


def _parse_value(text: str) -> int | float:
    if text.strip().lower() in UNLIMITED_WORDS:
        return -1
    value = float(text)  # ValueError for words; caught by the caller
    if not 0 <= value < float("inf"):  # NaN fails too
        raise ValueError(text)
    return int(value) if value.is_integer() else value


def cmd_set(args: argparse.Namespace) -> int:
    """Change class or student limits (or the time zone) in the quota file."""
    if not args.pairs and not args.timezone:
        return _fail("quota_cli_nothing")
    if args.timezone and args.student:
        return _fail("quota_cli_zone_student")
    changes: dict[str, int | float] = {}
    for pair in args.pairs:
        kind, sep, text = pair.partition("=")
        kind = kind.strip()
        if not sep:
            return _fail("quota_cli_bad_pair", text=pair, kinds=", ".join(KINDS))
        if kind not in KINDS:
            return _fail("quota_cli_bad_kind", kind=kind, kinds=", ".join(KINDS))
        try:
            changes[kind] = _parse_value(text)
        except ValueError:
            return _fail("quota_cli_bad_value", kind=kind, value=text)
    if args.timezone:
        try:
            ZoneInfo(args.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            return _fail("quota_cli_bad_zone", zone=args.timezone)
    if service_url() is not None:  # hub mode: the service's quota file
        from kit.hub import quota as remote_quota

        return remote_quota.cmd_set(args, changes)
    path = quota_file()
    try:
        before, after = set_limits(path, args.student, changes, args.timezone)
    except KitError as err:
        return _fail(err.key, **err.fields)
    report(before, after, args.student, changes)
    print(messages.t("quota_cli_saved", path=path))
    return 0


def set_limits(
    path: Path,
    student: str | None,
    changes: dict[str, int | float],
    timezone: str | None = None,
) -> tuple[Policy, Policy]:
    """Write limits (-1: unlimited) for the class or `student`; return (before, after)."""
    before = load_policy(path)  # KitError for a broken file: never overwrite it
    data = _read(path, before)
    if timezone:
        data.setdefault("class", {})["timezone"] = timezone
    table = data.setdefault("class", {})
    if student:
        table = data.setdefault("students", {}).setdefault(student, {})
    table.update(changes)
    parse_policy(data, path)  # the same checks as loading, before writing
    _write(path, data)
    return before, load_policy(path)


def _read(path: Path, before: Policy) -> dict:
    if before.stamp is not None:
        return read_toml(path)
    # A new file starts from the built-in limits: with a file, a kind left out of
    # [class] would mean unlimited.
    return {"class": {k: int(v) for k, v in DEFAULTS.items() if v is not None}}


def _write(path: Path, data: dict) -> None:
    """Write `data` as TOML atomically: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".quota-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            tomli_w.dump(data, out)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file private; students' kernels must be able to read it.
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """Run `kit quota ...` on its own: python -m kit.cli.quota show."""
    parser = argparse.ArgumentParser(prog="kit")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["quota", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
