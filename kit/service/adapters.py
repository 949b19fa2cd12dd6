"""The service's adapter endpoints (docs/hub-api.md): list, copy, share, files, upload."""

from __future__ import annotations

import tempfile
from urllib.parse import quote

from tornado import web

from kit.errors import KitError
from kit.hub import adapter_zip
from kit.service.http import BaseHandler

SPOOL_BYTES = 4 * 1024 * 1024  # an upload bigger than this waits on disk, not in memory


class AdaptersHandler(BaseHandler):
    """GET api/adapters: yours, then shared ones."""

    async def get(self) -> None:
        store = self.service.store
        found = await self.service.in_io(store.list, self.student, teacher=self.teacher)
        self.reply({"adapters": found})


class AdapterHandler(BaseHandler):
    """GET api/adapters/<owner>/<name>: one adapter's details."""

    async def get(self, owner: str, name: str) -> None:
        store = self.service.store
        info = await self.service.in_io(
            store.info, self.student, f"{owner}/{name}", teacher=self.teacher
        )
        self.reply(info)


class CopyHandler(BaseHandler):
    """POST api/adapters/<owner>/<name>/copy: save under a new name."""

    async def post(self, owner: str, name: str) -> None:
        data = self.body({"name", "scores", "replace"}, ["name"])
        store = self.service.store
        made = await self.service.in_io(
            store.copy, self.student, f"{owner}/{name}", data["name"],
            scores=data.get("scores"), replace=data.get("replace", False),
        )  # fmt: skip
        self.reply({"id": made})


class ShareHandler(BaseHandler):
    """POST api/adapters/<owner>/<name>/share: share or unshare."""

    async def post(self, owner: str, name: str) -> None:
        shared = self.body({"shared"}, ["shared"])["shared"]
        store = self.service.store
        info = await self.service.in_io(
            store.share, self.student, f"{owner}/{name}", shared, teacher=self.teacher
        )
        self.reply({"id": info["id"], "shared": info["shared"]})


class FilesHandler(BaseHandler):
    """GET api/adapters/<owner>/<name>/files: the adapter folder as a zip."""

    async def get(self, owner: str, name: str) -> None:
        store = self.service.store
        data = await self.service.in_io(
            store.files, self.student, f"{owner}/{name}", teacher=self.teacher
        )
        self.set_header("Content-Type", "application/zip")
        self.set_header("Content-Disposition",
                        f"attachment; filename*=UTF-8''{quote(name)}.zip")  # fmt: skip
        self.set_header("Cache-Control", "no-store")
        self.finish(data)


@web.stream_request_body
class UploadHandler(BaseHandler):
    """POST api/adapters/upload?name=: store the zip of an adapter folder as yours."""

    # The body streams into a spooled file, so the 64 MB limit of this one route
    # does not raise every route's (8 MB) and a big upload never sits in memory.
    async def prepare(self) -> None:
        self.upload, self.body_read = None, False
        await super().prepare()
        limit = adapter_zip.MAX_ZIP_BYTES
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > 2 * limit:
            adapter_zip.check_size(int(declared))  # far over: say so before reading it
        # Up to twice the limit is read (and dropped) so the client gets a clear 413.
        self.request.connection.set_max_body_size(2 * limit)
        self.received = 0
        self.upload = tempfile.SpooledTemporaryFile(
            SPOOL_BYTES, dir=self.service.config.dir
        )

    def data_received(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.upload is not None and self.received <= adapter_zip.MAX_ZIP_BYTES:
            self.upload.write(chunk)

    async def post(self) -> None:
        self.body_read = True
        name = self.get_query_argument("name", None)
        if name is None:
            raise KitError("service_missing_field", name="name")
        adapter_zip.check_size(self.received)
        self.upload.seek(0)
        made = await self.service.in_io(
            self.service.store.upload, self.student, name, self.upload
        )
        self.reply({"id": made})

    def write_error(self, status_code: int, **kwargs) -> None:
        if not getattr(self, "body_read", False):
            # Refused before reading the upload: tornado closes the connection after
            # this answer, so tell the client not to send its next request on it.
            self.set_header("Connection", "close")
        super().write_error(status_code, **kwargs)

    def on_finish(self) -> None:
        if getattr(self, "upload", None) is not None:
            self.upload.close()
        super().on_finish()
