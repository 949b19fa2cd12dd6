"""connect: the service's model, or one of its adapters, for kit.load_model in hub mode."""

from __future__ import annotations

import os

from kit.errors import KitError
from kit.hub.adapters import open_adapter
from kit.hub.client import RemoteModel
from kit.hub.http import call, service_url
from kit.models import catalogue


def connect(
    name: str | os.PathLike | None = None, *, adapter: str | os.PathLike | None = None
) -> RemoteModel:
    """Return the service's model (or one of its adapters) as a RemoteModel."""
    url = service_url()
    if url is None:
        raise KitError("remote_not_hub")
    info = call("GET", "api/info", base=url)
    served = str(info.get("name", "?"))
    if name is not None and catalogue.canonical(str(name)) not in {
        catalogue.canonical(served),
        served,
    }:
        raise KitError("remote_other_model", name=str(name), served=served)
    model = RemoteModel(info, url=url)
    if adapter is None:
        return model
    return open_adapter(model, adapter)
