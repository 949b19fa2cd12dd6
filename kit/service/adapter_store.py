"""AdapterStore: each student's adapters on disk, sharing, and who may open what.

Layout: root/<owner folder>/<name> is an adapter saved by Adapter.save (a symlink
swapped atomically), its training losses kept in the manifest; root/<owner
folder>/.meta/<name>.json holds {"shared": bool}. Owner folders: see adapter_names.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from kit.adapters import MANIFEST, Adapter, attach, read_manifest
from kit.errors import KitError, NotAllowed, NotFound, SettingError
from kit.files import fsync_tree, swap_in
from kit.hub.adapter_zip import AdapterZip, check_base, pack
from kit.model import Model
from kit.rng import RNG_LOCK
from kit.service.adapter_names import (
    NAME,
    check_name,
    owner_folder,
    split_id,
)


class AdapterStore:
    """Adapters per student on disk: save, open (cached), list, copy, share."""

    def __init__(
        self, root: Path, base: Model, *, cache_size: int = 8, served=None
    ) -> None:
        self.root = Path(root)
        self.base = base
        self.served = served  # VllmAdapters: a server loads the files itself
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[tuple, Adapter]] = OrderedDict()
        self._lock = threading.Lock()  # the cache, and copy's check-then-create

    def save(self, owner: str, name: str, adapter: Adapter) -> str:
        """Save `adapter` as owner/name atomically (replacing one of that name)."""
        name = check_name(name)
        if adapter.fingerprint() != self.base.fingerprint():
            raise KitError("adapter_wrong_base", path=f"{owner}/{name}",
                           made_for=adapter.manifest.get("base", "?"),
                           base=self.base.name)  # fmt: skip
        # The losses go in the manifest, so they are swapped in with the weights.
        keeping = copy.copy(adapter)
        keeping.manifest = {
            **adapter.manifest,
            "losses": list(adapter.losses),
            "trainable_parameters": adapter.trainable_parameters(),  # kernel shows it
            "adapter_mb": adapter.adapter_mb(),
        }
        keeping.save(self._folder(owner, name))
        return f"{owner}/{name}"

    def upload(self, owner: str, name: str, source: bytes | BinaryIO) -> str:
        """Store the zip of an adapter folder as owner/name atomically; return the id."""
        name = check_name(name)
        owner_folder(owner)
        found = AdapterZip(source)  # damaged, unsafe or incomplete: refused here
        check_base(found.manifest, self.base, path=name)
        target = self._folder(owner, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
        try:
            found.extract_adapter(fresh, self.base)
            fsync_tree(fresh)
            with self._lock:
                swap_in(fresh, target)
        except BaseException:
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        return f"{owner}/{name}"

    def files(self, requester: str, adapter_id: str, *, teacher: bool = False) -> bytes:
        """Return the zip of an adapter's folder, if `requester` may use it."""
        owner, name = self._readable(requester, adapter_id, teacher)
        try:
            return pack(self._folder(owner, name))
        except OSError:  # re-saved (the old folder removed) while we read: read the new
            return pack(self._folder(owner, name))

    def open(
        self, requester: str, adapter_id: str, *, teacher: bool = False
    ) -> Adapter:
        """Return adapter `adapter_id` loaded on the base, if `requester` may use it."""
        owner, name = self._readable(requester, adapter_id, teacher)
        folder, key = self._folder(owner, name), f"{owner}/{name}"
        for attempt in range(3):
            target = folder.resolve()
            # A re-save swaps the link to a new folder: the stamp changes, no stale hit.
            stamp = (str(target), _mtime(target / MANIFEST))
            with self._lock:
                hit = self._cache.get(key)
                if hit and hit[0] == stamp:
                    self._cache.move_to_end(key)
                    return hit[1]
            try:
                adapter = self._load(key, target, stamp)
                break
            except (OSError, KitError, ValueError):
                if attempt == 2 or folder.resolve() == target:
                    raise
                # else: re-saved (and the old folder removed) while we read; again
        if isinstance(adapter, Adapter):
            adapter.losses = list(adapter.manifest.pop("losses", []))
        with self._lock:
            self._cache[key] = (stamp, adapter)
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return adapter

    def _load(self, key: str, target: Path, stamp: tuple) -> Model:
        if self.served is None:
            with RNG_LOCK:  # peft draws LoRA's initial weights before it loads them
                return attach(self.base, target)
        manifest = read_manifest(target)
        if manifest.get("base_fingerprint") != self.base.fingerprint():
            raise KitError("adapter_wrong_base", path=key,
                           made_for=manifest.get("base", "?"), base=self.base.name)  # fmt: skip
        return self.served.model_for(key, target, stamp)

    def info(self, requester: str, adapter_id: str, *, teacher: bool = False) -> dict:
        """Return id, owner, name, shared, manifest and losses of one adapter."""
        owner, name = self._readable(requester, adapter_id, teacher)
        entry = self._entry(owner, name)
        entry["losses"] = entry["manifest"].pop("losses", [])
        return entry

    def list(self, requester: str, *, teacher: bool = False) -> list[dict]:
        """Return your adapters, then the shared ones (a teacher: everyone's)."""
        own = [self._entry(requester, n) for n in self._names(requester)]
        others = []
        if self.root.is_dir():
            for folder in sorted(p.name for p in self.root.iterdir() if p.is_dir()):
                owner = unquote(folder)
                if owner == requester or not _made_here(owner, folder):
                    continue
                for name in self._names(owner):
                    if teacher or self._shared(owner, name):
                        others.append(self._entry(owner, name))
        for entry in own + others:
            entry["manifest"].pop("losses", None)
        return own + sorted(others, key=lambda e: (e["owner"], e["name"]))

    def copy(
        self,
        requester: str,
        adapter_id: str,
        new_name: str,
        *,
        scores: dict | None = None,
        replace: bool = False,
    ) -> str:
        """Copy your adapter to a new name of yours, atomically; return the new id.

        `scores` ({data set: score}) are added to the copy's manifest; `replace`
        overwrites an adapter of that name, as saving to a folder does in local mode.
        """
        owner, name = self._existing(adapter_id)
        new_name = check_name(new_name)
        scores = _checked_scores(scores)
        if not isinstance(replace, bool):
            raise SettingError("bad_type", name="replace", kind="true/false",
                               value=replace)  # fmt: skip
        if owner != requester:
            raise NotAllowed("adapter_copy_not_allowed", id=adapter_id, owner=owner)
        source = self._folder(owner, name).resolve()
        target = self._folder(owner, new_name)
        with self._lock:
            if not replace and (target.exists() or target.is_symlink()):
                raise SettingError("adapter_name_taken", name=new_name)
            fresh = Path(tempfile.mkdtemp(prefix=f".{new_name}.", dir=target.parent))
            try:
                shutil.copytree(source, fresh, dirs_exist_ok=True)
                if scores:
                    manifest = read_manifest(fresh)
                    manifest["scores"] = {**manifest.get("scores", {}), **scores}
                    (fresh / MANIFEST).write_text(json.dumps(manifest, indent=2))
                fsync_tree(fresh)
                swap_in(fresh, target)
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                raise
        return f"{owner}/{new_name}"

    def share(
        self, requester: str, adapter_id: str, shared: bool, *, teacher: bool
    ) -> dict:
        """Share or unshare an adapter (its owner or a teacher); return id and flag."""
        owner, name = self._existing(adapter_id)
        if not isinstance(shared, bool):
            raise SettingError(
                "bad_type", name="shared", kind="true/false", value=shared
            )
        if owner != requester and not teacher:
            raise NotAllowed("adapter_share_not_allowed", id=adapter_id, owner=owner)
        meta = self._meta(owner, name)
        meta.parent.mkdir(parents=True, exist_ok=True)
        temp = meta.with_name(f"{meta.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        temp.write_text(json.dumps({"shared": shared}))
        os.replace(temp, meta)  # readers see the old flag or the new one
        return {"id": f"{owner}/{name}", "shared": shared}

    # --- internals -------------------------------------------------------------------
    def _folder(self, owner: str, name: str) -> Path:
        return self.root / owner_folder(owner) / name

    def _meta(self, owner: str, name: str) -> Path:
        return self.root / owner_folder(owner) / ".meta" / f"{name}.json"

    def _existing(self, adapter_id: str) -> tuple[str, str]:
        owner, name = split_id(adapter_id)
        if not (self._folder(owner, name) / MANIFEST).is_file():
            raise NotFound("adapter_not_found", id=adapter_id)
        return owner, name

    def _readable(self, requester: str, adapter_id: str, teacher: bool) -> tuple:
        owner, name = self._existing(adapter_id)
        if owner != requester and not teacher and not self._shared(owner, name):
            raise NotAllowed("adapter_not_allowed", id=adapter_id, owner=owner)
        return owner, name

    def _shared(self, owner: str, name: str) -> bool:
        try:
            flags = json.loads(self._meta(owner, name).read_text())
        except (OSError, ValueError):
            return False  # never shared, or a damaged flag: private is the safe side
        return isinstance(flags, dict) and flags.get("shared") is True

    def _names(self, owner: str) -> list[str]:
        folder = self.root / owner_folder(owner)
        if not folder.is_dir():
            return []
        return sorted(
            p.name
            for p in folder.iterdir()
            if NAME.fullmatch(p.name) and (p / MANIFEST).is_file()
        )

    def _entry(self, owner: str, name: str) -> dict:
        return {
            "id": f"{owner}/{name}",
            "owner": owner,
            "name": name,
            "shared": self._shared(owner, name),
            "manifest": read_manifest(self._folder(owner, name)),
        }


def _checked_scores(scores: object) -> dict[str, float]:
    """Return {data set name: score}, or raise SettingError naming the problem."""
    if scores is None:
        return {}
    fine = isinstance(scores, dict) and len(scores) <= 100
    for key, value in scores.items() if fine else ():
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        fine = fine and isinstance(key, str) and len(key) <= 200 and number
    if not fine:
        raise SettingError("bad_type", name="scores", kind="{data set: number}",
                           value=str(scores)[:80])  # fmt: skip
    return {key: float(value) for key, value in scores.items()}


def _made_here(owner: str, folder: str) -> bool:
    """Return True when `folder` is the owner folder this store makes for `owner`."""
    try:
        return owner_folder(owner) == folder
    except SettingError:
        return False


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
