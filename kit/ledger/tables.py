"""The ledger's three tables (SQLAlchemy Core): events, balances, reservations."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from kit.ledger.amounts import KINDS

metadata = MetaData()
INSERT_IF_MISSING = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def amount_columns(prefix: str = "") -> list[Column]:
    """Return one amount column per quota kind, named prefix + kind."""
    return [Column(prefix + k, Float, nullable=False, default=0.0) for k in KINDS]


events = Table(
    "quota_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reservation_id", String(32), nullable=False, index=True),
    Column("student", String(200), nullable=False),
    Column("day", String(10), nullable=False),
    Column("event", String(8), nullable=False),  # reserve/settle/release/expire
    *amount_columns(),
    Column("created_at", DateTime, nullable=False),  # UTC
)
balances = Table(
    "quota_balances",
    metadata,
    Column("student", String(200), primary_key=True),
    Column("day", String(10), primary_key=True),
    *amount_columns("used_"),
    *amount_columns("res_"),
)
reservations = Table(
    "quota_reservations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("student", String(200), nullable=False),
    Column("day", String(10), nullable=False),
    *amount_columns(),
    Column("created_at", DateTime, nullable=False, index=True),  # UTC
    Column("open", Boolean, nullable=False, default=True),
    Column("closed_by", String(8), nullable=True),  # settle/release/expire
)


def mismatches(conn: Connection) -> list[str]:
    """Return each balance that disagrees with its events and open reservations."""
    charged = [func.coalesce(func.sum(events.c[k]), 0.0) for k in KINDS]
    held = [func.coalesce(func.sum(reservations.c[k]), 0.0) for k in KINDS]
    problems = []
    for row in conn.execute(select(balances)).all():
        who = (events.c.student == row.student) & (events.c.day == row.day)
        used = conn.execute(
            select(*charged).where(who, events.c.event != "reserve")
        ).one()
        mine = (reservations.c.student == row.student) & (reservations.c.day == row.day)
        reserved = conn.execute(
            select(*held).where(mine, reservations.c.open.is_(True))
        ).one()
        for i, k in enumerate(KINDS):
            for name, want in (("used", used[i]), ("res", reserved[i])):
                have = row._mapping[f"{name}_{k}"]
                if abs(have - want) > 1e-6 * max(1.0, abs(want)):
                    problems.append(f"{row.student} {row.day} {name}_{k}: "
                                    f"balance {have} but events say {want}")  # fmt: skip
    return problems
