"""The teacher's quota policy: the TOML file, where it and the ledger live, who is working."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kit import messages
from kit.errors import KitError
from kit.ledger.amounts import KINDS
from kit.toml_files import TomlError, read_toml

DEFAULTS: dict[str, float | None] = {
    "generations": 500,
    "tokens": 50000,
    "finetune_steps": 2000,
    "gpu_seconds": 3600,
}
Limits = dict[str, float | None]  # None: unlimited


def quota_file() -> Path:
    """Return the teacher's quota file: KIT_QUOTA_FILE, else the user config folder."""
    if os.environ.get("KIT_QUOTA_FILE"):
        return Path(os.environ["KIT_QUOTA_FILE"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "baeum" / "quota.toml"


def ledger_url() -> str:
    """Return the ledger: KIT_QUOTA_DB (path or SQLAlchemy URL), else a user file."""
    if os.environ.get("KIT_QUOTA_DB"):
        return os.environ["KIT_QUOTA_DB"]
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return str(Path(base) / "baeum" / "quota.sqlite")


def current_student() -> str:
    """Return who is working: JUPYTERHUB_USER on a hub, else the OS user."""
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def local_zone() -> tuple[tzinfo, str]:
    """Return this machine's time zone and its name (an IANA name when known)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name and os.path.exists("/etc/localtime"):
        name = os.path.realpath("/etc/localtime").partition("zoneinfo/")[2]
    try:
        return ZoneInfo(name), name
    except (ValueError, ZoneInfoNotFoundError):
        zone = datetime.now().astimezone().tzinfo
        return zone, zone.tzname(None) or "local"


@dataclass(frozen=True)
class Policy:
    """The teacher's limits: class defaults, overrides per student, the time zone."""

    limits: Limits = field(default_factory=lambda: dict(DEFAULTS))
    students: dict[str, Limits] = field(default_factory=dict)
    zone: tzinfo = field(default_factory=lambda: local_zone()[0])
    zone_name: str = field(default_factory=lambda: local_zone()[1])
    path: Path | None = None
    stamp: tuple[int, ...] | None = None  # file_stamp() when loaded; None: no file

    def limits_for(self, student: str) -> Limits:
        """Return the limits of `student`: their overrides over the class's."""
        return {**self.limits, **self.students.get(student, {})}


def _bad(path: Path | None, problem_key: str, **fields: object) -> KitError:
    problem = messages.t(problem_key, **fields)
    return KitError("quota_bad_file", path=path or "-", problem=problem)


def _limits(table: object, where: str, path: Path | None, extra=()) -> Limits:
    if not isinstance(table, dict):
        raise _bad(path, "quota_problem_not_table", where=where)
    allowed = (*extra, *KINDS)
    found: Limits = {}
    for key, value in table.items():
        if key in extra:
            continue
        if key not in KINDS:
            raise _bad(
                path,
                "quota_problem_unknown_key",
                entry=key,
                where=where,
                allowed=", ".join(allowed),
            )
        number_ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number_ok or not (0 <= value < float("inf") or value == -1):
            raise _bad(
                path, "quota_problem_bad_value", where=where, kind=key, value=value
            )
        found[key] = None if value == -1 else float(value)
    return found


def parse_policy(data: Mapping, path: Path | None = None) -> Policy:
    """Check a parsed quota file and return its Policy (KitError naming a problem)."""
    for key in data:
        if key not in ("class", "students"):
            raise _bad(
                path,
                "quota_problem_unknown_key",
                entry=key,
                where="(top)",
                allowed="class, students",
            )
    section = data.get("class", {})
    # With a file, a kind left out of [class] is unlimited, as the docs say.
    limits = {k: None for k in KINDS}
    limits.update(_limits(section, "[class]", path, extra=("timezone",)))
    students = data.get("students", {})
    if not isinstance(students, dict):
        raise _bad(path, "quota_problem_not_table", where="[students]")
    overrides = {
        str(name): _limits(table, f'[students."{name}"]', path)
        for name, table in students.items()
    }
    zone, zone_name = local_zone()
    if "timezone" in section:
        zone_name = section["timezone"]
        try:
            zone = ZoneInfo(str(zone_name))
        except (ValueError, ZoneInfoNotFoundError):
            raise _bad(path, "quota_problem_bad_zone", zone=zone_name) from None
    return Policy(limits, overrides, zone, str(zone_name), path)


def file_stamp(path: Path) -> tuple[int, ...] | None:
    """Return what changes when the file is rewritten, or None if there is none."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    # The inode too: mtime alone can miss two writes within one clock tick.
    return (info.st_mtime_ns, info.st_ino, info.st_size)


def load_policy(path: Path | str | None = None) -> Policy:
    """Read the quota file (default: quota_file()); built-in limits if it is absent."""
    path = Path(path) if path is not None else quota_file()
    stamp = file_stamp(path)
    if stamp is None:
        return Policy(path=path)
    try:
        data = read_toml(path)
    except TomlError as err:
        raise _bad(path, "quota_problem_toml", detail=err.detail) from None
    policy = parse_policy(data, path)
    return replace(policy, stamp=stamp)
