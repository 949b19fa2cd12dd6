"""The `kit` command: doctor, prepare and models, as a teacher runs them."""

from __future__ import annotations

import os
import subprocess
import sys

from kit import cli
from kit.models import bundled


def run_kit(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kit.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_doctor_reports_a_healthy_setup(bundled_folder):
    """Does `kit doctor` name the model, cache, ledger, GPU state, and exit 0?"""
    done = run_kit("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "SmolLM2-135M-Instruct" in out and "checksum OK" in out
    assert str(bundled_folder.parent) in out
    assert os.environ["KIT_QUOTA_DB"] in out
    assert "GPU" in out and "✗" not in out
    # The Korean model with its licence, and which model each lesson language loads.
    assert (
        "qwen2.5-coder-0.5b (Qwen/Qwen2.5-Coder-0.5B-Instruct, Q4_K_M, Apache-2.0)"
        in out
    )
    assert "English lessons: smollm2-135m · Korean lessons: qwen2.5-coder-0.5b" in out


def test_doctor_in_korean_names_a_broken_quota_file(tmp_path):
    """Does a broken quota file make the doctor fail with the problem, in Korean?"""
    bad = tmp_path / "quota.toml"
    bad.write_text("[class\n")
    done = run_kit("doctor", KIT_LANG="ko", KIT_QUOTA_FILE=str(bad))
    assert done.returncode == 1
    assert "✗" in done.stdout and "할당량 파일" in done.stdout


def test_prepare_is_idempotent(bundled_folder, capsys):
    """Does `kit prepare` on a prepared cache just say where the model is?"""
    assert cli.main(["prepare"]) == 0
    assert str(bundled_folder) in capsys.readouterr().out
    assert bundled.is_prepared(bundled_folder)


def test_prepare_joins_each_model_in_parts_whose_parts_are_installed(
    bundled_folder, tmp_path, capsys, monkeypatch
):
    """Does `kit prepare` prepare the installed models in parts, and skip the rest?"""
    from kit.models import packaged, shipped

    korean = packaged.PACKAGED["qwen2.5-coder-0.5b"]
    here = {korean.name}

    def state(weights, root=None):
        return shipped.ShippedState(installed=weights.name in here, prepared=False)

    def prepare(weights, root=None):
        return tmp_path / weights.name

    monkeypatch.setattr(shipped, "state", state)
    monkeypatch.setattr(shipped, "prepare", prepare)
    assert cli.main(["prepare"]) == 0
    out = capsys.readouterr().out
    assert str(bundled_folder) in out and str(tmp_path / korean.name) in out
    others = [w.name for w in packaged.shipped_in_parts() if w.name not in here]
    assert others and not any(str(tmp_path / name) in out for name in others)


def test_models_lists_what_is_here(capsys):
    """Does `kit models` mark the bundled model as on this machine?"""
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "✓ smollm2-135m" in out and "· exaone-3.5-2.4b" in out
