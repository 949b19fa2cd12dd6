"""Quotas: the ledger's arithmetic, limits, day windows, exempt grading, concurrency."""

from __future__ import annotations

import multiprocessing
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

import kit
from kit import messages, quota
from kit.errors import KitError, QuotaExceeded
from kit.ledger.amounts import KINDS
from kit.ledger.store import Ledger
from kit.ledger.tables import events, reservations
from kit.quota import Quota, load_policy

UNLIMITED = {k: None for k in KINDS}


class Clock:
    """A settable clock, so day windows and staleness are tested without waiting."""

    def __init__(self, iso: str) -> None:
        self.at = datetime.fromisoformat(iso)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Point the quota file and ledger at tmp_path; forget any cached Quota."""
    monkeypatch.setenv("KIT_QUOTA_FILE", str(tmp_path / "quota.toml"))
    monkeypatch.setenv("KIT_QUOTA_DB", str(tmp_path / "ledger" / "quota.sqlite"))
    monkeypatch.setenv("JUPYTERHUB_USER", "kim.minji")
    monkeypatch.delenv("KIT_QUOTA_EXEMPT", raising=False)
    quota.reset_current()
    yield tmp_path
    quota.reset_current()
    messages.set_language(None)


def write_policy(path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def make_quota(tmp_path, toml: str, student="kim.minji", clock=None, **kw) -> Quota:
    write_policy(tmp_path / "quota.toml", toml)
    now = clock or Clock("2026-11-23T03:00:00+00:00")
    ledger = Ledger(tmp_path / "ledger.sqlite", now=now)
    return Quota(load_policy(tmp_path / "quota.toml"), ledger, student, now=now, **kw)


def count_events(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(events)).scalar_one()


def test_reserve_then_settle_replaces_reserved_by_used(tmp_path):
    """Reserved amounts count until settled; then only what was used counts."""
    ledger = Ledger(tmp_path / "deep" / "folder" / "q.sqlite")
    limits = {"generations": 10, "tokens": 1000}
    rid = ledger.reserve("kim", "2026-11-23", {"generations": 1, "tokens": 300}, limits)
    assert ledger.usage("kim", "2026-11-23")["tokens"] == 300
    ledger.settle(rid, {"generations": 1, "tokens": 42})
    ledger.settle(rid, {"generations": 1, "tokens": 999})  # twice: a no-op
    assert ledger.balance("kim", "2026-11-23") == {
        "used": {"generations": 1, "tokens": 42, "finetune_steps": 0, "gpu_seconds": 0},
        "reserved": {k: 0 for k in KINDS},
    }
    rid = ledger.reserve("kim", "2026-11-23", {"tokens": 500}, limits)
    ledger.release(rid)
    assert ledger.usage("kim", "2026-11-23")["tokens"] == 42
    assert ledger.usage("lee", "2026-11-23") == {k: 0 for k in KINDS}
    assert ledger.audit() == []
    with ledger.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_over_limit_says_used_limit_and_reset_in_both_languages(tmp_path):
    """When nothing is left, the error gives used, limit and reset time in ko and en."""
    q = make_quota(tmp_path, '[class]\ntimezone = "Asia/Seoul"\ngenerations = 2\n')
    for _ in range(2):
        with q.charge(generations=1):
            pass
    for lang, words in (("en", "(2 of 2)"), ("ko", "2/2")):
        messages.set_language(lang)
        with pytest.raises(QuotaExceeded) as caught:
            with q.charge(generations=1):
                pytest.fail("the block must not run when the quota is used up")
        text = str(caught.value)
        assert caught.value.key == "quota_exceeded"
        assert words in text and "2026-11-24 00:00 (Asia/Seoul)" in text
        assert messages.t("kind_generations", lang) in text
    messages.set_language(None)
    assert q.usage()["generations"] == 2  # the refused request left no trace


def test_too_big_request_says_how_much_is_left(tmp_path):
    """A request bigger than what is left is refused with the amount left."""
    q = make_quota(tmp_path, "[class]\ntokens = 100\n")
    with q.charge(tokens=60):
        pass
    with pytest.raises(QuotaExceeded) as caught:
        with q.charge(tokens=50):
            pass
    assert caught.value.key == "quota_too_big"
    assert caught.value.fields["left"] == "40" and caught.value.fields["need"] == "50"
    assert "40" in caught.value.in_language("ko")
    assert q.left("tokens") == 40


def test_student_override_beats_class_default(tmp_path):
    """A [students."name"] entry overrides the class limit for that student only."""
    toml = '[class]\ntokens = 100\n[students."kim.minji"]\ntokens = 1000\n'
    kim = make_quota(tmp_path, toml, student="kim.minji")
    lee = Quota(kim.policy, kim.ledger, "lee", now=kim.now)
    assert kim.left("tokens") == 1000 and lee.left("tokens") == 100
    with kim.charge(tokens=500):
        pass
    assert kim.left("tokens") == 500 and lee.left("tokens") == 100


def test_unlimited_kinds_never_block(tmp_path):
    """-1, or a kind left out of a quota file, means unlimited (left() is None)."""
    q = make_quota(tmp_path, "[class]\ntokens = -1\ngenerations = 5\n")
    assert q.left("tokens") is None and q.left("gpu_seconds") is None
    with q.charge(generations=1, tokens=10**9, finetune_steps=10**6):
        pass
    assert q.left("generations") == 4
    assert "unlimited" in q.summary("en") and "무제한" in q.summary("ko")


def test_no_file_means_builtin_defaults(tmp_path):
    """Without a quota file the built-in class defaults apply."""
    policy = load_policy(tmp_path / "absent.toml")
    assert policy.limits_for("anyone") == quota.DEFAULTS


def test_day_resets_at_midnight_in_the_class_zone(tmp_path):
    """Usage resets at midnight in the class's time zone, not UTC."""
    clock = Clock("2026-11-23T14:59:00+00:00")  # 23:59 in Seoul
    q = make_quota(
        tmp_path, '[class]\ntimezone = "Asia/Seoul"\ngenerations = 1\n', clock=clock
    )
    with q.charge(generations=1):
        pass
    assert q.left("generations") == 0
    assert q.reset_time() == datetime(2026, 11, 23, 15, tzinfo=timezone.utc)
    assert q.reset_text() == "2026-11-24 00:00 (Asia/Seoul)"
    clock.advance(seconds=61)  # 00:00:01 in Seoul; still the 23rd in UTC
    assert q.day() == "2026-11-24" and q.left("generations") == 1
    assert q.ledger.usage("kim.minji", "2026-11-23")["generations"] == 1


def test_exempt_mode_writes_nothing_and_never_blocks(env, monkeypatch):
    """Grading (KIT_QUOTA_EXEMPT=1 or quota.exempt()) is neither charged nor blocked."""
    write_policy(env / "quota.toml", "[class]\ngenerations = 1\n")
    monkeypatch.setenv("KIT_QUOTA_EXEMPT", "1")
    q = quota.current()
    assert q.exempt and q.left("generations") is None
    for _ in range(3):
        with q.charge(generations=1, tokens=100, on_gpu=True) as c:
            c.used(tokens=7)
    assert count_events(q.ledger) == 0
    monkeypatch.delenv("KIT_QUOTA_EXEMPT")
    quota.reset_current()
    student = quota.current()
    with student.charge(generations=1):
        pass
    with quota.exempt():
        assert student.exempt and quota.remaining()["generations"] is None
        with student.charge(generations=50):
            pass
    assert not student.exempt and student.left("generations") == 0
    with pytest.raises(QuotaExceeded):
        with student.charge(generations=1):
            pass
    assert count_events(student.ledger) == 2  # one reserve + one settle


def test_exception_in_block_releases_or_charges_what_was_recorded(tmp_path):
    """An error inside charge() gives the reservation back, less what was recorded."""
    q = make_quota(tmp_path, "[class]\ntokens = 100\n")
    with pytest.raises(KeyboardInterrupt):  # the stop button
        with q.charge(generations=1, tokens=80):
            raise KeyboardInterrupt
    assert q.usage()["tokens"] == 0 and q.usage()["generations"] == 0
    with pytest.raises(RuntimeError):
        with q.charge(generations=1, tokens=80) as c:
            c.used(tokens=30)
            raise RuntimeError("out of memory")
    assert q.usage()["tokens"] == 30 and q.usage()["generations"] == 0
    with q.charge(generations=1, tokens=50) as c:
        c.used(tokens=20)  # generations not recorded: settled as reserved
    assert q.usage() == {"generations": 1, "tokens": 50, **dict.fromkeys(KINDS[2:], 0)}
    assert q.ledger.audit() == []


def test_bad_amounts_are_programming_errors(tmp_path):
    """Unknown kinds, negative or NaN amounts raise ValueError and charge nothing."""
    q = make_quota(tmp_path, "[class]\ntokens = 100\n")
    for bad in ({"tokenz": 1}, {"tokens": -1}, {"tokens": float("nan")}):
        with pytest.raises(ValueError):
            with q.charge(**bad):
                pass
    with pytest.raises(ValueError):
        with q.charge(tokens=10) as c:
            c.used(tokens=True)
    assert q.usage()["tokens"] == 0 and q.ledger.audit() == []


def test_gpu_time_is_measured_and_an_exhausted_limit_blocks(tmp_path):
    """on_gpu=True charges the block's wall time; no GPU-seconds left blocks at once."""
    q = make_quota(tmp_path, "[class]\ngpu_seconds = 0.2\n")
    with q.charge(generations=1, on_gpu=True) as c:
        time.sleep(0.25)
    assert c.seconds >= 0.25 and q.usage()["gpu_seconds"] == pytest.approx(c.seconds)
    with pytest.raises(QuotaExceeded) as caught:
        with q.charge(generations=1, on_gpu=True):
            pytest.fail("must not start without GPU-seconds left")
    assert caught.value.fields["kind_id"] == "gpu_seconds"


def test_stale_reservation_of_a_killed_kernel_expires(tmp_path):
    """A reservation never settled stops counting after 10 minutes."""
    clock = Clock("2026-11-23T03:00:00+00:00")
    ledger = Ledger(tmp_path / "q.sqlite", now=clock)
    limits = {"generations": 1}
    lost = ledger.reserve("kim", "2026-11-23", {"generations": 1}, limits)
    with pytest.raises(QuotaExceeded):
        ledger.reserve("kim", "2026-11-23", {"generations": 1}, limits)
    clock.advance(seconds=601)
    rid = ledger.reserve("kim", "2026-11-23", {"generations": 1}, limits)
    with ledger.engine.connect() as conn:
        kinds = conn.execute(select(events.c.event).order_by(events.c.id)).scalars()
        assert list(kinds) == ["reserve", "expire", "reserve"]
    ledger.settle(rid, {"generations": 1})
    ledger.settle(lost, {"generations": 1})  # a late settle is still charged, once
    ledger.settle(lost, {"generations": 1})
    assert ledger.balance("kim", "2026-11-23")["used"]["generations"] == 2
    assert ledger.expire_stale() == 0 and ledger.audit() == []


def test_expire_stale_sweeps_every_student(tmp_path):
    """expire_stale() releases old open reservations of every student."""
    clock = Clock("2026-11-23T03:00:00+00:00")
    ledger = Ledger(tmp_path / "q.sqlite", now=clock)
    for who in ("kim", "lee"):
        ledger.reserve(who, "2026-11-23", {"tokens": 10}, UNLIMITED)
    clock.advance(seconds=30)
    assert ledger.expire_stale(older_than_seconds=60) == 0
    clock.advance(seconds=60)
    assert ledger.expire_stale(older_than_seconds=60) == 2
    assert ledger.usage_by_student("2026-11-23") == {
        who: {k: 0 for k in KINDS} for who in ("kim", "lee")
    }


# Each worker is a fresh interpreter (spawn). kit/__init__ imports torch (~3 s a
# process); the race only needs the ledger, so the workers load kit's modules
# without running the package's __init__.
WORKER = """
import sys, types
from pathlib import Path

kit = types.ModuleType("kit")
kit.__path__ = [KIT_DIR]
sys.modules.setdefault("kit", kit)

from kit.errors import QuotaExceeded
from kit.ledger.store import Ledger


def reserve_many(url, times):
    ledger = Ledger(url)
    won = 0
    for _ in range(times):
        try:
            rid = ledger.reserve(
                "kim", "2026-11-23", {"generations": 1}, {"generations": 50}
            )
        except QuotaExceeded:
            continue
        ledger.settle(rid, {"generations": 1})
        won += 1
    return won
"""


def test_four_processes_never_overspend(tmp_path, monkeypatch):
    """4 processes × 30 tries against a limit of 50: exactly 50 succeed, books agree."""
    kit_dir = str(Path(kit.__file__).parent)
    (tmp_path / "race_worker.py").write_text(WORKER.replace("KIT_DIR", repr(kit_dir)))
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers inherit sys.path
    import race_worker

    url = str(tmp_path / "q.sqlite")
    Ledger(url).usage("kim", "2026-11-23")  # create the tables before the race
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        wins = pool.starmap(race_worker.reserve_many, [(url, 30)] * 4)
    assert sum(wins) == 50
    ledger = Ledger(url)
    assert ledger.balance("kim", "2026-11-23")["used"]["generations"] == 50
    assert ledger.audit() == []
    with ledger.engine.connect() as conn:
        opened = conn.execute(select(func.count()).where(reservations.c.open)).scalar()
        settled = conn.execute(
            select(func.sum(events.c.generations)).where(events.c.event == "settle")
        ).scalar()
    assert opened == 0 and settled == 50


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[class\ntokens = 1", "TOML"),
        ("[class]\ntokenz = 5", "tokenz"),
        ('[class]\ntimezone = "Mars/Olympus"', "Mars/Olympus"),
        ("[class]\ntokens = -5", "-5"),
        ('[class]\ntokens = "lots"', "lots"),
        ('[students."kim"]\ngpu_seconds = true', "gpu_seconds"),
        ("[klass]\ntokens = 5", "klass"),
    ],
)
def test_broken_quota_file_names_the_problem(tmp_path, text, named):
    """A broken quota file raises quota_bad_file with the file and the problem."""
    path = tmp_path / "quota.toml"
    write_policy(path, text)
    with pytest.raises(KitError) as caught:
        load_policy(path)
    assert caught.value.key == "quota_bad_file"
    assert named in str(caught.value) and str(path) in str(caught.value)
    assert named in caught.value.in_language("ko")


def test_a_quota_file_that_is_not_toml_names_the_line(tmp_path):
    """Does a syntax error in the quota file say which line, in both languages?"""
    path = tmp_path / "quota.toml"
    write_policy(path, "[class]\ntokens = 5\ngpu_seconds = \n")
    with pytest.raises(KitError) as caught:
        load_policy(path)
    assert caught.value.key == "quota_bad_file" and str(path) in str(caught.value)
    assert "line 3" in str(caught.value) and "line 3" in caught.value.in_language("ko")


def test_current_is_lazy_and_follows_the_teachers_file(env):
    """current() creates no file until used, and picks up a changed quota file."""
    q = quota.current()
    assert quota.current() is q and q.student == "kim.minji"
    assert not (env / "ledger").exists()
    assert quota.remaining()["tokens"] == 50000  # built-in default
    assert (env / "ledger" / "quota.sqlite").exists()
    write_policy(env / "quota.toml", "[class]\ntokens = 7\n")
    assert quota.remaining()["tokens"] == 7


def test_show_prints_a_table_with_the_honour_note(env, capsys):
    """show() outside a notebook prints used/limit/left per kind and the honour note."""
    write_policy(env / "quota.toml", "[class]\ntokens = 1000\n")
    messages.set_language("en")
    with quota.current().charge(tokens=250):
        pass
    quota.show()
    out = capsys.readouterr().out
    assert "generated tokens" in out and "250" in out and "750" in out
    assert messages.t("quota_honour", "en") in out
    html = quota.current()._repr_html_()
    assert "<table>" in html and "1,000" in html and "honour" in html
    assert quota.current().summary("en").startswith("Today left: unlimited gen")
