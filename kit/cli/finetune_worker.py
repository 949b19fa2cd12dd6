"""`kit finetune-worker`: train the Baeum service's queued fine-tunes on this machine.

The pull side of `kit serve --finetune-runner workers` (docs/hub.md, section 6): load
the model the service serves, then claim a job, train it with kit.finetune, report
each step (the service charges the student's quota and says when to stop), hand the
adapter back, and claim the next. The token is KIT_WORKER_TOKEN, never a flag (a
command line shows in `ps`).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import logging
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from kit import messages
from kit.errors import KitError, QuotaExceeded, ServiceUnavailable

TOKEN_ENV = "KIT_WORKER_TOKEN"
URL_ENV = "KIT_SERVICE_URL"
RETRY_SECONDS = 5.0  # between tries while the service does not answer
log = logging.getLogger(__name__)


class JobGone(KitError):
    """The service took the job back (409): its lease ended, or the service restarted."""


class WorkerStopping(Exception):
    """SIGTERM (Kubernetes, Kueue preemption): stop after this step."""


def add_subcommand(subparsers) -> None:
    """Add `kit finetune-worker` to an argparse subparsers object."""
    worker = subparsers.add_parser(
        "finetune-worker",
        help="train the service's queued fine-tunes here (a GPU node)",
    )
    worker.add_argument("--service-url", help=f"the service's base URL ({URL_ENV})")
    worker.add_argument("--model", help="the service's model (default: KIT_MODEL)")
    worker.add_argument("--once", action="store_true",
                        help="exit after one job, or at once if none is queued")  # fmt: skip
    worker.add_argument("--idle-exit", type=float, metavar="SECONDS",
                        help="exit when no job came for SECONDS (default: never)")  # fmt: skip
    worker.add_argument("--poll", type=float, default=10.0, metavar="SECONDS",
                        help="wait between claims while none is queued (10)")  # fmt: skip
    worker.add_argument("--name", help="this worker's name in the service's log")
    worker.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    """Load the model, then train claimed jobs until told to stop."""
    url = (args.service_url or os.environ.get(URL_ENV, "")).strip()
    if not url:
        raise KitError("worker_no_url")
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise KitError("worker_no_token")
    from kit.loading import load_local

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    model = load_local(args.model)
    worker = Worker(model, WorkerClient(url, token), args.name or socket.gethostname())
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    print(messages.t("worker_started", model=model.name, url=worker.client.base),
          flush=True)  # fmt: skip
    return worker.run(once=args.once, idle_exit=args.idle_exit, poll=args.poll)


class WorkerClient:
    """The worker's HTTP client of the service's api/worker endpoints."""

    def __init__(self, url: str, token: str, transport=None) -> None:
        import httpx

        from kit.hub.http import CONNECT_SECONDS, read_timeout

        self.base = url if url.endswith("/") else url + "/"
        self.http = httpx.Client(
            base_url=self.base, headers={"Authorization": f"token {token}"},
            timeout=httpx.Timeout(read_timeout(), connect=CONNECT_SECONDS),
            transport=transport, trust_env=False,  # no proxy sees the token
        )  # fmt: skip

    def claim(self, fingerprint: str, on_gpu: bool, name: str) -> dict | None:
        """Return the next job with its lease and request, or None if none is queued."""
        body = {"worker": name, "fingerprint": fingerprint, "on_gpu": on_gpu}
        answer = self._post("api/worker/claim", json=body)
        return answer if answer.get("job") else None

    def progress(self, job: str, lease: str, step: int, loss: float, seconds: float):
        """Report a finished step; return {continue, error}."""
        body = {"lease": lease, "step": step, "loss": loss, "seconds": seconds}
        return self._post(f"api/worker/jobs/{job}/progress", json=body)

    def hand_back(self, job: str, lease: str, zipped: bytes) -> dict:
        """Send the trained adapter's zip; return the job as it ended."""
        return self._post(f"api/worker/jobs/{job}/adapter", params={"lease": lease},
                          content=zipped,
                          headers={"Content-Type": "application/zip"})["job"]  # fmt: skip

    def fail(self, job: str, lease: str, *, error: dict | None = None,
             interrupted: bool = False, detail: str = "") -> dict:  # fmt: skip
        """Report that the job could not be finished; return it as it ended."""
        body = {"lease": lease, "error": error, "interrupted": interrupted,
                "detail": detail[:2000]}  # fmt: skip
        return self._post(f"api/worker/jobs/{job}/fail", json=body)["job"]

    def _post(self, path: str, **request) -> dict:
        import httpx

        from kit.hub.http import error_from

        try:
            response = self.http.post(path, **request)
        except httpx.TransportError as broken:  # timeouts too
            raise ServiceUnavailable("remote_unreachable", url=self.base,
                                     problem=type(broken).__name__) from None  # fmt: skip
        if response.status_code == 401:
            raise KitError("worker_token_refused", url=self.base)
        if response.status_code == 409:
            raise JobGone("worker_job_gone", id=path.split("/")[3])
        if not response.is_success:
            raise error_from(response, self.base + path)
        return response.json()


class RemoteSteps:
    """The quota account kit.finetune charges on a worker: the service's, by report."""

    exempt = False

    def __init__(self, client: WorkerClient, job: dict, lease: str,
                 patience: float, stopping: threading.Event) -> None:  # fmt: skip
        self.client, self.job, self.lease = client, job, lease
        self.patience, self.stopping = patience, stopping
        self.stopped_by: QuotaExceeded | None = None
        self.seconds = 0.0

    def left(self, kind: str) -> None:
        """Return None: the service checked the whole job before it gave it out."""
        return None

    @contextlib.contextmanager
    def charge(self, *, on_gpu: bool = False, **amounts: float) -> Iterator:
        """Run one step if the service reserved it (else QuotaExceeded: stop here)."""
        from kit.quota import Charge

        if self.stopped_by is not None:
            raise self.stopped_by  # kit.finetune keeps the steps done
        started = time.monotonic()
        yield Charge({k: float(v) for k, v in amounts.items()})
        self.seconds = time.monotonic() - started

    def on_step(self, step: int, loss: float) -> None:
        """Report the step: the service settles it and reserves the next one."""
        from kit.hub.http import rebuild

        answer = patiently(
            lambda: self.client.progress(
                self.job["id"], self.lease, step, loss, self.seconds
            ),  # fmt: skip
            self.patience,
        )
        error = answer.get("error") or {}
        if not answer.get("continue") and step < self.job["steps"]:
            self.stopped_by = rebuild(QuotaExceeded, error.get("key"),
                                      error.get("fields"), error.get("terms"))  # fmt: skip
        if self.stopping.is_set():
            raise WorkerStopping


class Worker:
    """Claim, train, report, hand back; again until none is queued (or forever)."""

    def __init__(self, model, client: WorkerClient, name: str = "worker") -> None:
        self.model, self.client, self.name = model, client, name
        self.stopping = threading.Event()

    def run(self, *, once: bool = False, idle_exit: float | None = None,
            poll: float = 10.0) -> int:  # fmt: skip
        """Train jobs as they come; return the exit code (0)."""
        idle_since = time.monotonic()
        on_gpu = self.model.device.type == "cuda"
        while not self.stopping.is_set():
            try:
                claimed = self.client.claim(self.model.fingerprint(), on_gpu, self.name)
            except ServiceUnavailable as down:  # starting, restarting: wait for it
                if once:
                    raise
                print(messages.t("worker_waiting", problem=down.fields.get("problem"),
                                 seconds=f"{poll:g}"), flush=True)  # fmt: skip
                claimed = None
            if claimed is None:
                waited = time.monotonic() - idle_since
                if once or (idle_exit is not None and waited >= idle_exit):
                    print(messages.t("worker_idle_exit"), flush=True)
                    return 0
                self.stopping.wait(poll)
                continue
            self.train(claimed)
            if once:
                return 0
            idle_since = time.monotonic()
        return 0

    def train(self, claimed: dict) -> dict | None:
        """Train one claimed job and hand it back; return how it ended (None: lost)."""
        from kit import quota
        from kit.finetune import finetune
        from kit.service.job_request import check_request
        from kit.service.job_steps import job_error

        job, lease, asked = claimed["job"], claimed["lease"], claimed["request"]
        print(messages.t("worker_claimed", id=job["id"], student=job["student"],
                         steps=job["steps"]), flush=True)  # fmt: skip
        steps = RemoteSteps(self.client, job, lease, float(claimed["lease_seconds"]),
                            self.stopping)  # fmt: skip
        try:
            try:
                rows = asked["rows"]
                data, prompt, settings = check_request(
                    self.model, rows, asked["settings"], lang=asked.get("lang"),
                    max_rows=max(1, len(rows)), dataset=asked.get("dataset"),
                )  # fmt: skip
                with quota.acting_as(steps):  # charged by the service, not here
                    adapter = finetune(self.model, data, prompt=prompt, progress=False,
                                       plot=False, on_step=steps.on_step, **settings)  # fmt: skip
                ended = self.client.hand_back(job["id"], lease, zipped(adapter))
            except JobGone:
                raise
            except WorkerStopping:
                ended = self.client.fail(job["id"], lease, interrupted=True,
                                         detail="SIGTERM")  # fmt: skip
            except KitError as error:  # the data, settings or hand-back: say which
                ended = self.client.fail(job["id"], lease, error=job_error(error),
                                         detail=error.in_language("en"))  # fmt: skip
            except Exception as error:  # a bug: logged here, a plain message there
                log.exception("fine-tune job %s failed", job["id"])
                ended = self.client.fail(job["id"], lease, detail=repr(error))
        except JobGone:
            print(messages.t("worker_job_gone", id=job["id"]), flush=True)
            return None
        print(messages.t("worker_job_ended", id=job["id"], state=ended["state"],
                         adapter=ended["adapter"] or "-"), flush=True)  # fmt: skip
        return ended


def patiently(call: Callable[[], dict], seconds: float) -> dict:
    """Return call(), tried again while the service does not answer, for `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except ServiceUnavailable:
            if time.monotonic() + RETRY_SECONDS > deadline:
                raise
            time.sleep(RETRY_SECONDS)


def zipped(adapter) -> bytes:
    """Return the zip of an adapter folder, its losses in the manifest (as the store)."""
    from kit.hub.adapter_zip import pack

    keeping = copy.copy(adapter)
    keeping.manifest = {**adapter.manifest, "losses": list(adapter.losses)}
    with tempfile.TemporaryDirectory(prefix="kit-worker-") as folder:
        return pack(keeping.save(Path(folder) / "adapter"))
