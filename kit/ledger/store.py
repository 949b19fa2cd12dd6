"""The quota ledger: reserve before work, settle after, one transaction each.

Three tables. `quota_events` is append-only: a reserve event holds the amounts
reserved; a settle, release or expire event holds the amounts charged (zero for
release and expire). `quota_balances` holds, per student and day, `used_*` (the sum
of charged amounts) and `res_*` (the amounts of still-open reservations).
`quota_reservations` holds each reservation and whether it is still open.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import (
    Engine,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, make_url

from kit.ledger.amounts import EPSILON, KINDS, check_amounts, exceeded, utcnow
from kit.ledger.tables import (
    INSERT_IF_MISSING,
    balances,
    events,
    metadata,
    mismatches,
    reservations,
)


class Ledger:
    """A quota ledger in SQLite (a path or sqlite:// URL) or PostgreSQL (a URL)."""

    def __init__(
        self,
        url: str | Path,
        *,
        now: Callable[[], datetime] = utcnow,
        stale_after: float = 600.0,
    ) -> None:
        text = str(url)
        self.url = text if "://" in text else f"sqlite:///{Path(text).expanduser()}"
        self.now = now
        self.stale_after = stale_after
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """Return the database engine, creating the database on first use."""
        with self._lock:
            if self._engine is None:
                self._engine = self._connect()
            return self._engine

    def _connect(self) -> Engine:
        url = make_url(self.url)
        if url.get_backend_name() != "sqlite":
            engine = create_engine(url, pool_pre_ping=True)
            with engine.begin() as conn:
                metadata.create_all(conn)
            return engine
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # we send BEGIN ourselves, below
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA busy_timeout = 30000")  # wait for writers, 30 s
            cursor.execute("PRAGMA journal_mode = WAL")  # readers never block
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock at BEGIN, so check-then-add is serialised
            # across processes and never fails half-way with SQLITE_BUSY.
            mode = conn.get_execution_options().get("kit_begin", "IMMEDIATE")
            conn.exec_driver_sql(f"BEGIN {mode}")

        with engine.begin() as conn:
            metadata.create_all(conn)
        return engine

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(kit_begin="IMMEDIATE" if write else "DEFERRED")
            with conn.begin():
                yield conn

    def _stamp(self) -> datetime:
        # Naive UTC: compares the same in SQLite (text) and PostgreSQL.
        return self.now().astimezone(timezone.utc).replace(tzinfo=None)

    def _lock_balance(self, conn: Connection, student: str, day: str):
        """Create the balance row if missing and lock it until the transaction ends."""
        row = {"student": student, "day": day}
        row.update({f"{p}{k}": 0.0 for p in ("used_", "res_") for k in KINDS})
        upsert = INSERT_IF_MISSING.get(conn.dialect.name)
        if upsert is not None:
            conn.execute(upsert(balances).values(row).on_conflict_do_nothing())
        query = select(balances).where(
            balances.c.student == student, balances.c.day == day
        )
        found = conn.execute(query.with_for_update()).first()
        if found is None:  # another database: plain insert inside the transaction
            conn.execute(insert(balances).values(row))
            found = conn.execute(query.with_for_update()).one()
        return found

    def reserve(
        self,
        student: str,
        day: str,
        amounts: Mapping[str, float],
        limits: Mapping[str, float | None],
        *,
        reset: str = "",
    ) -> str:
        """Reserve `amounts` for `student` on `day` within `limits`; return its id."""
        check_amounts(amounts)
        rid = uuid.uuid4().hex
        stamp = self._stamp()
        with self._transaction() as conn:
            cutoff = stamp - timedelta(seconds=self.stale_after)
            self._expire(conn, cutoff, student=student, day=day)
            bal = self._lock_balance(conn, student, day)  # re-read after expiry
            for kind in KINDS:
                limit = limits.get(kind)
                if kind not in amounts or limit is None:
                    continue
                taken = bal._mapping[f"used_{kind}"] + bal._mapping[f"res_{kind}"]
                left = limit - taken
                if left <= EPSILON or amounts[kind] > left + EPSILON:
                    # Raising rolls the whole transaction back: nothing is written.
                    raise exceeded(
                        kind, taken, limit, amounts[kind], reset, student=student
                    )
            full = {k: float(amounts.get(k, 0.0)) for k in KINDS}
            where = (balances.c.student == student) & (balances.c.day == day)
            adds = {f"res_{k}": balances.c[f"res_{k}"] + v for k, v in full.items()}
            conn.execute(update(balances).where(where).values(adds))
            conn.execute(
                insert(reservations).values(
                    id=rid,
                    student=student,
                    day=day,
                    created_at=stamp,
                    open=True,
                    **full,
                )
            )
            self._event(conn, rid, student, day, "reserve", full, stamp)
        return rid

    def settle(self, reservation_id: str, used: Mapping[str, float]) -> None:
        """Replace a reservation by what was `used`; settling twice changes nothing."""
        self._close(reservation_id, used, "settle")

    def release(self, reservation_id: str) -> None:
        """Give a reservation back unused (settle with zeros)."""
        self._close(reservation_id, {}, "release")

    def _close(self, rid: str, used: Mapping[str, float], kind_of_event: str) -> None:
        check_amounts(used)
        full = {k: float(used.get(k, 0.0)) for k in KINDS}
        stamp = self._stamp()
        with self._transaction() as conn:
            query = select(reservations).where(reservations.c.id == rid)
            res = conn.execute(query).first()
            if res is None:
                raise ValueError(f"no quota reservation {rid!r}")
            # Lock the balance before the reservation, in the same order as reserve().
            self._lock_balance(conn, res.student, res.day)
            res = conn.execute(query.with_for_update()).one()
            if res.closed_by in ("settle", "release"):
                return  # already settled: idempotent
            self._apply(conn, res, full, kind_of_event, stamp)

    def _apply(self, conn: Connection, res, used: dict, kind_of_event: str, stamp):
        """Close `res`: drop its reservation if open, add `used`, append an event."""
        changes = {f"used_{k}": balances.c[f"used_{k}"] + v for k, v in used.items()}
        if res.open:  # an expired reservation was already taken off
            for k in KINDS:
                changes[f"res_{k}"] = balances.c[f"res_{k}"] - res._mapping[k]
        where = (balances.c.student == res.student) & (balances.c.day == res.day)
        conn.execute(update(balances).where(where).values(changes))
        conn.execute(
            update(reservations)
            .where(reservations.c.id == res.id)
            .values(open=False, closed_by=kind_of_event)
        )
        self._event(conn, res.id, res.student, res.day, kind_of_event, used, stamp)

    def _event(self, conn, rid, student, day, kind_of_event, amounts, stamp) -> None:
        conn.execute(
            insert(events).values(
                reservation_id=rid,
                student=student,
                day=day,
                event=kind_of_event,
                created_at=stamp,
                **amounts,
            )
        )

    def _expire(self, conn: Connection, cutoff, *, student: str, day: str) -> int:
        """Release open reservations of one student and day made before `cutoff`."""
        self._lock_balance(conn, student, day)  # first, as everywhere: no deadlocks
        stale = conn.execute(
            select(reservations)
            .where(
                reservations.c.open.is_(True),
                reservations.c.student == student,
                reservations.c.day == day,
                reservations.c.created_at < cutoff,
            )
            .with_for_update()
        ).all()
        zeros = {k: 0.0 for k in KINDS}
        for res in stale:
            self._apply(conn, res, zeros, "expire", self._stamp())
        return len(stale)

    def expire_stale(self, older_than_seconds: float = 600.0) -> int:
        """Release reservations left open longer than this (a killed kernel's)."""
        cutoff = self._stamp() - timedelta(seconds=older_than_seconds)
        with self._transaction(write=False) as conn:
            groups = conn.execute(
                select(reservations.c.student, reservations.c.day)
                .where(
                    reservations.c.open.is_(True), reservations.c.created_at < cutoff
                )
                .distinct()
            ).all()
        count = 0
        for student, day in groups:  # one transaction per balance row: no deadlocks
            with self._transaction() as conn:
                count += self._expire(conn, cutoff, student=student, day=day)
        return count

    def balance(self, student: str, day: str) -> dict[str, dict[str, float]]:
        """Return {'used': {...}, 'reserved': {...}} for one student and day."""
        with self._transaction(write=False) as conn:
            row = conn.execute(
                select(balances).where(
                    balances.c.student == student, balances.c.day == day
                )
            ).first()
        return _split(row._mapping if row is not None else {})

    def usage(self, student: str, day: str) -> dict[str, float]:
        """Return what `student` has used or still holds reserved on `day`, per kind."""
        parts = self.balance(student, day)
        return {k: parts["used"][k] + parts["reserved"][k] for k in KINDS}

    def usage_by_student(self, day: str) -> dict[str, dict[str, float]]:
        """Return usage (used + reserved) per kind for every student seen on `day`."""
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                select(balances)
                .where(balances.c.day == day)
                .order_by(balances.c.student)
            ).all()
        result = {}
        for row in rows:
            parts = _split(row._mapping)
            result[row.student] = {
                k: parts["used"][k] + parts["reserved"][k] for k in KINDS
            }
        return result

    def audit(self) -> list[str]:
        """Return each mismatch of balances against events and reservations."""
        with self._transaction(write=False) as conn:
            return mismatches(conn)


def _split(row: Mapping) -> dict[str, dict[str, float]]:
    return {
        "used": {k: float(row.get(f"used_{k}", 0.0)) for k in KINDS},
        "reserved": {k: float(row.get(f"res_{k}", 0.0)) for k in KINDS},
    }
