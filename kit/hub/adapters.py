"""RemoteAdapter: a student's LoRA adapter kept by the Baeum service, used like kit.Adapter."""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from urllib.parse import quote

from kit.adapters import MANIFEST, Adapter, read_manifest
from kit.errors import KitError, NotFound, SettingError
from kit.hub import adapter_zip
from kit.hub.client import RemoteModel
from kit.hub.http import call, send


class RemoteAdapter(RemoteModel, Adapter):
    """A fine-tuned model on the service: its base weights plus your LoRA adapter."""

    # Subclass of both: isinstance(x, kit.Adapter) holds, so kit.evaluate asks the way
    # it was trained and kit.finetune continues from the base. RemoteModel comes first
    # in the MRO, so every answer comes from the service, never from local weights.

    def __init__(self, base: RemoteModel, record: dict) -> None:
        super().__init__(base.info, url=base.url, adapter=str(record["id"]))
        self.base = base
        self.name = f"{base.name}+lora"
        self.owner = str(record.get("owner") or self.adapter_id.partition("/")[0])
        self.adapter_name = str(record.get("name") or self.adapter_id.partition("/")[2])
        self.shared = bool(record.get("shared", False))
        self.manifest = dict(record.get("manifest") or {})
        self.losses = [float(x) for x in record.get("losses") or ()]

    def __repr__(self) -> str:
        m = self.manifest
        loss = float(m.get("final_loss", self.losses[-1] if self.losses else "nan"))
        return (f"<kit.Adapter {self.adapter_id} on {m.get('base', self.base.name)} · "
                f"{m.get('dataset', '?')} · {m.get('steps', len(self.losses))} steps · "
                f"final loss {loss:.3f} · via Baeum service>")  # fmt: skip

    def trainable_parameters(self) -> int:
        """Return how many numbers the adapter learnt (the base model's stay frozen)."""
        return int(self._from_manifest("trainable_parameters"))

    def adapter_mb(self) -> float:
        """Return how much memory the adapter's own weights take, in megabytes."""
        return float(self._from_manifest("adapter_mb"))

    def parameter_count(self) -> int:
        """Return how many numbers the model has: the base model's and the adapter's."""
        return self.base.parameter_count() + self.trainable_parameters()

    def size_mb(self) -> float:
        """Return how much memory the weights take, in megabytes (base and adapter)."""
        return self.base.size_mb() + self.adapter_mb()

    def save(self, path: str | os.PathLike) -> Path:
        """Save the adapter to the folder `path` (and on the service, by its name)."""
        body: dict = {"name": adapter_name(path), "replace": True}  # as local mode does
        if self.manifest.get("scores"):  # kit.evaluate's scores, kept in both copies
            body["scores"] = self.manifest["scores"]
        saved = call("POST", f"{_path(self.adapter_id)}/copy", body, base=self.url)
        zipped, _ = send("GET", f"{_path(str(saved['id']))}/files", base=self.url)
        return adapter_zip.unpack_into(zipped.content, path)

    def share(self, shared: bool = True) -> RemoteAdapter:
        """Let the class use this adapter (or stop sharing it): owner or teacher."""
        answer = call("POST", f"{_path(self.adapter_id)}/share",
                      {"shared": bool(shared)}, base=self.url)  # fmt: skip
        self.shared = bool(answer.get("shared", shared))
        return self

    def _from_manifest(self, key: str):
        if self.manifest.get(key) is None:  # made by an older service
            raise KitError("remote_no_count", adapter=self.adapter_id, field=key)
        return self.manifest[key]


def adapter_name(path: str | os.PathLike) -> str:
    """Return the name an adapter is kept under: the last part of a path."""
    if not isinstance(path, (str, os.PathLike)):
        raise SettingError("bad_type", name="path", kind="str", value=path)
    text = os.fspath(path).strip()
    name = PurePath(text).name
    if not name or name in (".", ".."):
        raise SettingError("remote_bad_adapter_name", given=text)
    return name


def adapter_id(given: str | os.PathLike, base: RemoteModel) -> str:
    """Return the service id `owner/name` for what a student passed as adapter=."""
    if isinstance(given, str):
        text = given.strip()
        parts = text.split("/")
        # "owner/name" is an adapter someone shared; paths with more folders, or
        # starting with / . ~, are paths from local mode: their last part is the name.
        if len(parts) == 2 and all(parts) and not text.startswith((".", "~")):
            return text
    return f"{whoami(base)}/{adapter_name(given)}"


_me: dict[str, str] = {}


def whoami(base: RemoteModel) -> str:
    """Return the hub name the service knows this kernel by."""
    if base.url not in _me:
        _me[base.url] = str(call("GET", "api/quota", base=base.url)["student"])
    return _me[base.url]


def _path(adapter: str) -> str:
    owner, _, name = adapter.partition("/")
    return f"api/adapters/{quote(owner, safe='')}/{quote(name, safe='')}"


def open_adapter(base: RemoteModel, given: str | os.PathLike) -> RemoteAdapter:
    """Return the adapter `given`: a saved folder (uploaded), yours by name, or shared."""
    folder = local_folder(given)
    if folder is not None:
        return upload(base, folder)
    wanted = adapter_id(given, base)
    try:
        record = call("GET", _path(wanted), base=base.url)
    except NotFound:
        # "adapters/movie-genres" from a local-mode notebook means a folder, not an
        # owner: look for your own adapter of that name before giving up.
        mine = f"{whoami(base)}/{wanted.partition('/')[2]}"
        if mine == wanted:
            raise
        try:
            record = call("GET", _path(mine), base=base.url)
        except NotFound:
            raise NotFound("remote_adapter_unknown", given=os.fspath(given),
                           owner_name=wanted, mine=mine) from None  # fmt: skip
    return RemoteAdapter(base, record)


def local_folder(given: object) -> Path | None:
    """Return `given` as an absolute folder path if it holds a saved adapter, else None."""
    if not isinstance(given, (str, os.PathLike)):
        return None
    folder = Path(os.path.abspath(Path(given).expanduser()))  # symlinks kept: its name
    return folder if (folder / MANIFEST).is_file() else None


def upload(base: RemoteModel, folder: Path) -> RemoteAdapter:
    """Send a saved adapter folder to the service (as yours, by its name); open it."""
    adapter_zip.check_base(read_manifest(folder), base, path=str(folder))  # say it now
    zipped = adapter_zip.pack(folder)
    adapter_zip.check_size(len(zipped))
    answer, _ = send("POST", "api/adapters/upload", base=base.url, content=zipped,
                     params={"name": adapter_name(folder)},
                     headers={"Content-Type": "application/zip"})  # fmt: skip
    record = call("GET", _path(str(answer.json()["id"])), base=base.url)
    return RemoteAdapter(base, record)


def adapters() -> list[dict]:
    """List the adapters you may use on the service: yours, then shared ones."""
    found = call("GET", "api/adapters")["adapters"]
    return [{"id": a["id"], "owner": a["owner"], "name": a["name"],
             "shared": a["shared"], "dataset": a["manifest"].get("dataset"),
             "steps": a["manifest"].get("steps"),
             "scores": a["manifest"].get("scores", {})} for a in found]  # fmt: skip
