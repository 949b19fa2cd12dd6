"""`kit doctor`: what is installed, where things live, and what is wrong, in plain words."""

from __future__ import annotations

import os
import platform
from importlib import metadata

from kit import messages
from kit.errors import KitError
from kit.models import bundled, catalogue
from kit.paths import cache_dir, is_writable

PACKAGES = (
    "baeum-kit", "torch", "transformers", "peft", "gguf", "jupyterlab", "nbgrader",
    "ipywidgets", "gradio", "nbval", "jupyterhub", "llama-cpp-python",
)  # fmt: skip
REQUIRED = {"baeum-kit", "torch", "transformers", "peft", "gguf"}


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def checks() -> list[tuple[str, bool, str]]:
    """Return (label, ok, detail) for everything a teacher needs to know."""
    t = messages.t
    rows: list[tuple[str, bool, str]] = []
    versions = {p: _version(p) for p in PACKAGES}
    missing = [p for p in REQUIRED if versions[p] is None]
    listed = ", ".join(f"{p} {v}" for p, v in versions.items() if v)
    detail = f"Python {platform.python_version()}; {listed}"
    if missing:
        detail += f"; {', '.join(missing)}: {t('doctor_not_installed')}"
    rows.append((t("doctor_packages"), not missing, detail))

    try:
        path = bundled.gguf_path()
        bundled.verify_gguf(path)
        rows.append(
            (
                t("doctor_default_model"),
                True,
                f"SmolLM2-135M-Instruct (Q4_1, Apache-2.0) · {path} · "
                f"{t('doctor_checksum_ok')}",
            )
        )
    except KitError as error:
        rows.append((t("doctor_default_model"), False, str(error)))

    root = cache_dir()
    folder = bundled.prepared_dir(root)
    writable = is_writable(root)
    state = (
        t("doctor_prepared")
        if bundled.is_prepared(folder)
        else t("doctor_not_prepared")
    )
    if not writable:
        state += f" · {t('doctor_read_only')}"
    cache_ok = writable or bundled.is_prepared(folder)
    rows.append((t("doctor_cache"), cache_ok, f"{root} · {state}"))

    rows.append(_korean_row())
    rows.append((t("doctor_lesson_models"), True, t("doctor_lesson_models_value",
                 en=catalogue.default_name("en"), ko=catalogue.default_name("ko"))))  # fmt: skip
    rows.extend(_quota_rows())
    rows.append((t("doctor_language"), True, messages.language()))
    rows.append((t("doctor_gpu"), True, _gpu_state()))
    rows.append(_engine_row())
    offline = os.environ.get("HF_HUB_OFFLINE", "1 (set by kit.load_model)")
    rows.append((t("doctor_offline"), True, t("doctor_offline_value", value=offline)))
    others = [n for n in catalogue.ready_names() if n != catalogue.DEFAULT]
    rows.append((t("doctor_other_models"), True, ", ".join(others) or t("doctor_none")))
    return rows


def _quota_rows() -> list[tuple[str, bool, str]]:
    from kit import quota

    t = messages.t
    rows = []
    path = quota.quota_file()
    try:
        account = quota.current()
        where = str(path) if path.is_file() else f"{path} · {t('doctor_quota_default')}"
        rows.append((t("doctor_quota_file"), True, where))
        rows.append((t("doctor_ledger"), True, quota.ledger_url()))
        rows.append((t("doctor_student"), True, account.student))
        rows.append(("", True, account.summary()))
    except KitError as error:
        rows.append((t("doctor_quota_file"), False, str(error)))
    return rows


def _korean_row() -> tuple[str, bool, str]:
    """Return the Korean model's row: its parts installed, prepared, and its licence."""
    from kit.models import shipped

    weights = shipped.shipped(catalogue.KOREAN_DEFAULT)
    if weights is None:  # pragma: no cover - the catalogue always ships it
        return messages.t("doctor_korean_model"), False, catalogue.KOREAN_DEFAULT
    here = shipped.state(weights)
    if not here.installed:
        detail = messages.t("model_parts_missing", name=weights.name,
                            install=shipped.install_command(weights))  # fmt: skip
        return messages.t("doctor_korean_model"), False, detail
    state = messages.t("doctor_prepared" if here.prepared else "doctor_not_prepared")
    entry = catalogue.CATALOGUE[weights.name]
    detail = f"{weights.name} ({entry.repo}, Q4_K_M, {entry.licence}) · {state}"
    return messages.t("doctor_korean_model"), True, detail


def _engine_row() -> tuple[str, bool, str]:
    """Say what generates: llama.cpp when installed (and asked for), else transformers."""
    from kit.engines.choice import wanted
    from kit.engines.llama_engine import available
    from kit.engines.llama_runtime import thread_counts

    t = messages.t
    try:
        chosen = wanted()
    except KitError as error:  # a misspelt KIT_ENGINE: say so here, not in class
        return t("doctor_engine"), False, str(error)
    if chosen == "transformers":
        return t("doctor_engine"), True, t("doctor_engine_exact")
    if not available():
        return t("doctor_engine"), chosen == "auto", t("doctor_engine_missing")
    version = _version("llama-cpp-python")
    decode, prompt = thread_counts()
    detail = t("doctor_engine_fast", version=version, decode=decode, prompt=prompt)
    return t("doctor_engine"), True, detail


def _gpu_state() -> str:
    import torch

    from kit.models.device import gpu_allowed

    if not torch.cuda.is_available():
        return messages.t("doctor_gpu_none")
    gpu = torch.cuda.get_device_name(0)
    if not gpu_allowed():
        return messages.t("doctor_gpu_off", gpu=gpu)
    return f"{gpu} · {torch.cuda.device_count()}×"


def report() -> tuple[str, int]:
    """Return the doctor's report as text, and how many problems it found."""
    rows = checks()
    width = max(len(label) for label, _, _ in rows)
    lines = [messages.t("doctor_title"), ""]
    for label, ok, detail in rows:
        mark = "✓" if ok else "✗"
        lines.append(
            f"{mark} {label:<{width}}  {detail}"
            if label
            else f"  {'':<{width}}  {detail}"
        )
    problems = sum(not ok for _, ok, _ in rows)
    lines += [
        "",
        messages.t("doctor_problems", count=problems)
        if problems
        else messages.t("doctor_ok"),
    ]
    return "\n".join(lines), problems
