"""The endpoints of remote fine-tune workers (docs/hub-api.md): claim, report, hand back.

They answer only with `kit serve --finetune-runner workers`, and only to a caller whose
token is the service's KIT_WORKER_TOKEN: a shared secret between the service and its
workers, compared in constant time. The hub is not asked (a worker is not a hub user
and needs no route to the hub), and a student's hub token is refused here (403).
"""

from __future__ import annotations

import hmac

from tornado import web

from kit.errors import NotAllowed, NotFound, SettingError
from kit.hub import adapter_zip
from kit.service.adapters import UploadHandler
from kit.service.http import TOKEN_HEADER, BaseHandler, NotSignedIn, error_body
from kit.service.worker_jobs import LeaseLost

WORKER = {"name": "(fine-tune worker)", "kind": "worker", "groups": [], "admin": False}


class WorkerAuth:
    """A mixin for BaseHandler: the caller must hold the workers' shared token."""

    async def authenticate(self) -> dict:
        """Return the workers' identity for the right token, else raise 401/403/404."""
        match = TOKEN_HEADER.match(self.request.headers.get("Authorization", ""))
        if not match:
            raise NotSignedIn("service_no_token")
        config = self.service.config
        if config.finetune_runner != "workers":
            raise NotFound("worker_runner_off")
        expected = (config.worker_token or "").encode()
        if not expected or not hmac.compare_digest(match.group(1).encode(), expected):
            raise NotAllowed("worker_bad_token")
        return dict(WORKER)

    def write_error(self, status_code: int, **kwargs) -> None:
        """Answer a lost lease with 409 (the job is no longer this worker's)."""
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, LeaseLost):
            self.clear_header("Content-Type")
            self.reply(error_body(error, self.lang), 409)
            return
        super().write_error(status_code, **kwargs)


class ClaimHandler(WorkerAuth, BaseHandler):
    """POST api/worker/claim: the next queued job, now running, under a lease."""

    async def post(self) -> None:
        data = self.body({"worker", "fingerprint", "on_gpu"}, ["fingerprint"])
        worker, on_gpu = data.get("worker", "worker"), data.get("on_gpu", False)
        if not isinstance(worker, str) or not isinstance(on_gpu, bool):
            raise SettingError("bad_type", name="worker, on_gpu", kind="str, bool",
                               value=f"{worker!r}, {on_gpu!r}"[:80])  # fmt: skip
        claimed = await self.service.in_io(
            self.service.jobs.claim, worker[:100], data["fingerprint"], on_gpu
        )
        self.reply(claimed or {"job": None})


class ProgressHandler(WorkerAuth, BaseHandler):
    """POST api/worker/jobs/<id>/progress: one step done; go on or stop."""

    async def post(self, job_id: str) -> None:
        data = self.body(
            {"lease", "step", "loss", "seconds"}, ["lease", "step", "loss"]
        )
        answer = await self.service.in_io(
            self.service.jobs.report, job_id, data["lease"], data["step"],
            data["loss"], data.get("seconds", 0.0),
        )  # fmt: skip
        self.reply(answer)


class FailHandler(WorkerAuth, BaseHandler):
    """POST api/worker/jobs/<id>/fail: the worker could not finish the job."""

    async def post(self, job_id: str) -> None:
        data = self.body({"lease", "error", "interrupted", "detail"}, ["lease"])
        interrupted, detail = data.get("interrupted", False), data.get("detail", "")
        if not isinstance(interrupted, bool) or not isinstance(detail, str):
            raise SettingError("bad_type", name="interrupted, detail", kind="bool, str",
                               value=f"{interrupted!r}"[:80])  # fmt: skip
        job = await self.service.in_io(
            self.service.jobs.fail, job_id, data["lease"], data.get("error"),
            interrupted=interrupted, detail=detail,
        )  # fmt: skip
        self.reply({"job": job})


@web.stream_request_body
class HandBackHandler(WorkerAuth, UploadHandler):
    """POST api/worker/jobs/<id>/adapter?lease=: the trained adapter's zip."""

    async def post(self, job_id: str) -> None:
        self.body_read = True
        lease = self.get_query_argument("lease", None)
        adapter_zip.check_size(self.received)
        self.upload.seek(0)
        job = await self.service.in_io(
            self.service.jobs.finish, job_id, lease, self.upload
        )
        self.reply({"job": job})


WORKER_ROUTES = [
    ("api/worker/claim", ClaimHandler),
    ("api/worker/jobs/([^/]+)/progress", ProgressHandler),
    ("api/worker/jobs/([^/]+)/adapter", HandBackHandler),
    ("api/worker/jobs/([^/]+)/fail", FailHandler),
]
