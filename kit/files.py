"""Files that appear whole or not at all: flush a folder, swap it in atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def fsync_tree(folder: Path) -> None:
    """Flush every file of `folder` to disk before it becomes visible."""
    for file in folder.iterdir():
        with open(file, "rb") as handle:
            os.fsync(handle.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries, so a rename in it survives a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def swap_in(fresh: Path, target: Path) -> None:
    """Point `target` at `fresh` in one atomic step (a symlink replaced by rename)."""
    if target.exists() and not target.is_symlink():
        # A plain folder (copied in by hand): move it aside first, then link.
        target.rename(target.with_name(f".{target.name}.old-{time.time_ns()}"))
    previous = target.resolve() if target.is_symlink() else None
    link = target.with_name(f".{target.name}.link-{time.time_ns()}")
    link.symlink_to(fresh.name)
    os.replace(link, target)  # atomic: readers see the old adapter or the new one
    if previous and previous != fresh and previous.parent == target.parent:
        shutil.rmtree(previous, ignore_errors=True)


@contextmanager
def written_whole(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; once written it becomes `target`.

    A crash or an error leaves no half-written `target` (and no temporary file).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        yield Path(partial)
        os.chmod(partial, 0o644)  # a shared cache: other users' kernels read it too
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


@contextmanager
def folder_swapped_in(target: Path) -> Iterator[Path]:
    """Yield a fresh folder beside `target`; once written it is swapped in as `target`.

    An error leaves the previous `target` as it was and removes the fresh folder.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    fresh.chmod(0o755)  # as a plain mkdir: a serving engine's user may read it
    try:
        yield fresh
        fsync_tree(fresh)
        swap_in(fresh, target)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
