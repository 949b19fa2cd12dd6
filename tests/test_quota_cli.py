"""`kit quota show` and `kit quota set`, run in-process through argparse."""

from __future__ import annotations

import argparse

import pytest

from kit import messages, quota
from kit.cli import quota as quota_cli
from kit.ledger.status import text_width
from kit.toml_files import read_toml


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Point the quota file and ledger at tmp_path, in English."""
    monkeypatch.setenv("KIT_QUOTA_FILE", str(tmp_path / "conf" / "quota.toml"))
    monkeypatch.setenv("KIT_QUOTA_DB", str(tmp_path / "quota.sqlite"))
    monkeypatch.delenv("KIT_QUOTA_EXEMPT", raising=False)
    messages.set_language("en")
    quota.reset_current()
    yield tmp_path
    quota.reset_current()
    messages.set_language(None)


def kit(*argv: str) -> int:
    """Run `kit ARGV...` the way kit/cli.py does: add_subcommands, then args.func."""
    parser = argparse.ArgumentParser(prog="kit")
    quota_cli.add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def read(env) -> dict:
    return read_toml(env / "conf" / "quota.toml")


def test_set_then_show(env, capsys, monkeypatch):
    """set writes class and student limits; show lists each student's use vs limit."""
    assert kit("quota", "set", "tokens=30000", "generations=unlimited") == 0
    out = capsys.readouterr().out
    assert "class default: tokens 50,000 → 30,000" in out
    assert "generations 500 → unlimited" in out
    assert kit("quota", "set", "--student", "kim.minji", "tokens=60000") == 0
    assert kit("quota", "set", "--timezone", "Asia/Seoul") == 0
    data = read(env)
    # A new file starts from the built-in limits, so kinds not set stay limited.
    assert data["class"] == {
        "generations": -1,
        "tokens": 30000,
        "finetune_steps": 2000,
        "gpu_seconds": 3600,
        "timezone": "Asia/Seoul",
    }
    assert data["students"] == {"kim.minji": {"tokens": 60000}}
    monkeypatch.setenv("JUPYTERHUB_USER", "lee.jun")
    with quota.current().charge(generations=1, tokens=1234):
        pass
    capsys.readouterr()
    assert kit("quota", "show") == 0
    lines = capsys.readouterr().out.splitlines()
    assert "time zone Asia/Seoul" in lines[0] and "quota.toml" in lines[0]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert rows["kim.minji"] == ["0/∞", "0/60,000", "0/2,000", "0/3,600"]
    assert rows["lee.jun"] == ["1/∞", "1,234/30,000", "0/2,000", "0/3,600"]
    assert len({text_width(line) for line in lines[1:]}) == 1  # aligned columns


def test_show_one_student_on_another_day(env, capsys):
    """show --student --day shows that student's row for that day."""
    assert kit("quota", "show", "--student", "park", "--day", "2026-01-02") == 0
    out = capsys.readouterr().out
    assert "2026-01-02" in out and "built-in defaults" in out
    assert "park" in out and "0/50,000" in out
    assert kit("quota", "show", "--day", "yesterday") == 2
    assert "2026-11-24" in capsys.readouterr().err  # the example in the message


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["tokenz=5"], "tokenz"),
        (["tokens=lots"], "lots"),
        (["tokens=-3"], "-3"),
        (["tokens=inf"], "inf"),
        (["tokens"], "KIND=VALUE"),
        (["--timezone", "Mars/Olympus"], "Mars/Olympus"),
        (["--student", "kim", "--timezone", "Asia/Seoul"], "--timezone"),
        ([], "Nothing to change"),
    ],
)
def test_set_refuses_bad_input_and_leaves_the_file(env, capsys, argv, named):
    """A bad kind, value or zone exits 2, says what is wrong, and changes nothing."""
    assert kit("quota", "set", "tokens=100") == 0
    before = (env / "conf" / "quota.toml").read_bytes()
    capsys.readouterr()
    assert kit("quota", "set", *argv) == 2
    assert named in capsys.readouterr().err
    assert (env / "conf" / "quota.toml").read_bytes() == before
    assert sorted(p.name for p in (env / "conf").iterdir()) == ["quota.toml"]


def test_set_never_overwrites_a_broken_file(env, capsys):
    """set on a file that does not parse exits 2 and keeps the teacher's text."""
    (env / "conf").mkdir()
    (env / "conf" / "quota.toml").write_text("[class\n", encoding="utf-8")
    assert kit("quota", "set", "tokens=5") == 2
    assert "TOML" in capsys.readouterr().err
    assert (env / "conf" / "quota.toml").read_text(encoding="utf-8") == "[class\n"


def test_set_keeps_other_entries_and_reaches_running_kernels(env, capsys):
    """set changes only what it is given; a cached Quota sees the new limit."""
    (env / "conf").mkdir()
    (env / "conf" / "quota.toml").write_text(
        '[class]\ntokens = 10\n[students."kim"]\ngenerations = 3\n', encoding="utf-8"
    )
    q = quota.current()
    assert q.limits()["tokens"] == 10
    assert kit("quota", "set", "--student", "lee", "finetune_steps=7.5") == 0
    assert kit("quota", "set", "tokens=20") == 0
    assert read(env) == {
        "class": {"tokens": 20},
        "students": {"kim": {"generations": 3}, "lee": {"finetune_steps": 7.5}},
    }
    assert quota.current().limits()["tokens"] == 20


def test_korean_messages_for_teachers(env, capsys):
    """A Korean-speaking teacher reads the CLI's sentences in Korean."""
    messages.set_language("ko")
    assert kit("quota", "set", "tokenz=1") == 2
    assert "할당량 종류가 아니에요" in capsys.readouterr().err
    assert kit("quota", "set", "tokens=1") == 0
    assert "저장했어요" in capsys.readouterr().out
