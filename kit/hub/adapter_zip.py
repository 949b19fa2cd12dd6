"""Adapter folders as zip files: packed to travel over HTTP, unpacked safely.

An adapter folder is flat: kit-adapter.json, adapter_config.json and the weights
(adapter_model.safetensors). A zip holds those files at its top, or inside one folder
(as a file manager zips a folder); deeper folders and hidden files are left out.
Nothing is written outside the target folder: a name that is absolute, has a `..`
part or a backslash is refused (zip slip).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from safetensors import SafetensorError

from kit.adapters import MANIFEST, attach
from kit.errors import SettingError
from kit.files import fsync_tree, swap_in
from kit.model import Model
from kit.rng import RNG_LOCK

MAX_ZIP_BYTES = 64 * 1024 * 1024  # one upload (docs/hub-api.md)
MAX_FILES = 64
UNPACKED_PER_ZIPPED = 4  # a zip bomb is refused before anything is written
NEEDED = (MANIFEST, "adapter_config.json")
WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
IGNORED = re.compile(r"(^|/)(__MACOSX/|\.)")  # file managers' extras, hidden files
DRIVE = re.compile(r"^[A-Za-z]:")
CHUNK = 1 << 20
BROKEN = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError)


def pack(folder: str | os.PathLike) -> bytes:
    """Return a zip of the adapter files in `folder` (its top-level files, flat)."""
    source = Path(folder).expanduser().resolve()  # one target, even if re-saved now
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zipped:
        for file in sorted(source.iterdir()):
            if file.is_file() and not file.name.startswith("."):
                zipped.write(file, file.name)
    return buffer.getvalue()


def check_size(size: int) -> None:
    """Raise SettingError (HTTP 413) when a zip is over the upload limit."""
    if size > MAX_ZIP_BYTES:
        raise SettingError("adapter_zip_too_big", size=f"{size / 1e6:.1f} MB",
                           limit=f"{MAX_ZIP_BYTES / 1e6:.0f} MB")  # fmt: skip


class AdapterZip:
    """A zip of an adapter folder, checked before anything is written."""

    def __init__(self, source: bytes | BinaryIO) -> None:
        data = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        try:
            self.zip = zipfile.ZipFile(data)
        except BROKEN as problem:
            raise SettingError("adapter_zip_damaged", problem=_said(problem)) from None
        self.files = _checked_files(self.zip)  # unsafe or incomplete: says which
        try:
            self.manifest = json.loads(self.zip.read(self.files[MANIFEST]))
        except BROKEN as problem:
            raise SettingError("adapter_zip_damaged", problem=_said(problem)) from None
        if not isinstance(self.manifest, dict):
            raise SettingError("adapter_zip_damaged", problem=f"{MANIFEST}: not a dict")

    def extract_adapter(self, into: Path, base: Model) -> None:
        """Extract into `into`, prove the weights load on `base`, note their size."""
        self.extract(into)
        try:
            with RNG_LOCK:  # peft draws LoRA's initial weights before it loads them
                loaded = attach(base, into)
        except (OSError, ValueError, RuntimeError, KeyError, TypeError,
                SafetensorError) as problem:  # fmt: skip
            raise SettingError("adapter_zip_damaged", problem=_said(problem)) from None
        sizes = {"trainable_parameters": loaded.trainable_parameters(),
                 "adapter_mb": loaded.adapter_mb()}  # fmt: skip
        manifest = {**self.manifest, **sizes}  # measured here, not taken on trust
        (into / MANIFEST).write_text(json.dumps(manifest, indent=2))

    def extract(self, into: Path) -> None:
        """Write the adapter's files into the (empty) folder `into`."""
        try:
            for name, info in self.files.items():
                with self.zip.open(info) as src, open(into / name, "xb") as out:
                    written = 0
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        if written > info.file_size:  # more than the zip declared
                            raise zipfile.BadZipFile(f"{name}: longer than declared")
                        out.write(chunk)
        except BROKEN as problem:
            raise SettingError("adapter_zip_damaged", problem=_said(problem)) from None


def check_base(manifest: dict, base: Model, *, path: str) -> None:
    """Raise SettingError (local mode's message) unless the adapter is for `base`."""
    if manifest.get("base_fingerprint") != base.fingerprint():
        raise SettingError("adapter_wrong_base", path=path,
                           made_for=manifest.get("base", "?"), base=base.name)  # fmt: skip


def _checked_files(zipped: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Return {file name: entry} of the adapter's files, or raise naming the problem."""
    entries = zipped.infolist()
    if len(entries) > MAX_FILES:
        raise SettingError("adapter_zip_damaged",
                           problem=f"{len(entries)} files; an adapter has a few")  # fmt: skip
    kept = []
    for info in entries:
        name = info.filename
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or DRIVE.match(name) or ".." in parts:
            raise SettingError("adapter_zip_unsafe", entry=name[:200])
        if not info.is_dir() and not IGNORED.search(name):
            kept.append(info)
    tops = {info.filename.split("/")[0] for info in kept}
    nested = all("/" in info.filename for info in kept)
    strip = len(tops) == 1 and nested  # the files inside one folder: look inside it
    files: dict[str, zipfile.ZipInfo] = {}
    for info in kept:
        name = info.filename.split("/", 1)[1] if strip else info.filename
        if "/" in name:
            continue  # deeper folders are not part of an adapter
        if name in files:
            raise SettingError("adapter_zip_unsafe", entry=name[:200])
        files[name] = info
    missing = [n for n in NEEDED if n not in files]
    if not any(w in files for w in WEIGHTS):
        missing.append(WEIGHTS[0])
    if missing:
        raise SettingError("adapter_zip_incomplete", missing=", ".join(missing))
    unpacked = sum(info.file_size for info in files.values())
    if unpacked > UNPACKED_PER_ZIPPED * MAX_ZIP_BYTES:
        check_size(unpacked)
    return files


def _said(problem: Exception) -> str:
    return (str(problem) or type(problem).__name__)[:160]


def unpack_into(source: bytes | BinaryIO, target: str | os.PathLike) -> Path:
    """Write a zipped adapter to the folder `target` atomically; return its path."""
    found = AdapterZip(source)
    target = Path(target).expanduser().absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        found.extract(fresh)
        fsync_tree(fresh)
        swap_in(fresh, target)  # a crash leaves the old folder, never half a new one
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return target
