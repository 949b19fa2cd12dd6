"""RemoteQueue: fine-tune jobs trained by remote workers (`kit finetune-worker`).

With `kit serve --finetune-runner workers` the service trains nothing itself. A
worker (a Kubernetes Job on a GPU node, say) claims the next job in the students'
round-robin turn and holds it under a lease that each report renews. The quota is
charged here exactly as kit.finetune charges it in-process (Quota.charge: reserve a
step before it runs, settle it after): the claim reserves step 1, and each progress
report settles its step and reserves the next, or tells the worker to stop when the
quota has run out (the job then ends "stopped" with the steps done).

A lease not renewed in time ends the job as *interrupted*, as a service restart ends
an in-process job: the steps charged stay charged and are never trained or charged
twice, and a worker that was only slow is told to stop (409) rather than racing a
second worker on the same job. The student starts the fine-tune again.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO

from kit import messages
from kit.errors import KitError, QuotaExceeded, SettingError
from kit.hub.adapter_zip import AdapterZip
from kit.quota import Charge
from kit.service.config import ServiceConfig
from kit.service.job_steps import JobStopping, interrupted_error, job_error
from kit.service.jobs import JobQueue, check_quota

log = logging.getLogger(__name__)


class LeaseLost(KitError):
    """The job is not (or no longer) held by this lease (HTTP 409)."""


@dataclass(eq=False)
class Lease:
    """One claimed job: who holds it, until when, and its next step's reservation."""

    job: object  # the queue's job: record, request
    token: str
    worker: str
    on_gpu: bool
    deadline: float
    block: object = None  # the open Quota.charge of the next step
    charge: Charge | None = None
    reserved_at: float = 0.0
    stopped_by: QuotaExceeded | None = None


def job_queue(config: ServiceConfig, model, store, quota_for) -> JobQueue:
    """Return the service's fine-tune queue: trained in-process, or by workers."""
    settings = {"workers": config.workers, "max_rows": config.max_rows}
    if config.finetune_runner == "workers":
        return RemoteQueue(model, store, config.jobs_dir, quota_for,
                           lease=config.worker_lease, **settings)  # fmt: skip
    return JobQueue(model, store, config.jobs_dir, quota_for, **settings)


class RemoteQueue(JobQueue):
    """A JobQueue whose jobs remote workers claim, train and hand back."""

    def __init__(self, *args, lease: float = 600.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lease_seconds = float(lease)
        self._leases: dict[str, Lease] = {}
        self._lease_lock = threading.Lock()  # taken before the queue's own lock
        self._reaper: threading.Thread | None = None

    def start(self) -> None:
        """Watch the leases (the workers train: no training threads here)."""
        if self._reaper is None:
            self._reaper = threading.Thread(target=self._watch, daemon=True,
                                            name="kit-job-leases")  # fmt: skip
            self._reaper.start()

    def stop(self, timeout: float = 30) -> None:
        """Stop as JobQueue does; jobs held by workers become interrupted."""
        super().stop(timeout)
        with self._lease_lock:
            for lease in list(self._leases.values()):
                self._drop(lease, {"state": "interrupted",
                                   "error": interrupted_error(lease.job.record)})  # fmt: skip
        if self._reaper is not None:
            self._reaper.join(timeout)

    # --- what the worker endpoints call ----------------------------------------------
    def claim(self, worker: str, fingerprint: object, on_gpu: bool) -> dict | None:
        """Give the next job in turn to `worker` under a new lease (None: none queued)."""
        if fingerprint != self.model.fingerprint():  # it would train another model
            raise SettingError(
                "worker_wrong_model", worker=worker, base=self.model.name
            )
        with self._lease_lock:
            while (job := self.take()) is not None:
                record = job.record
                lease = Lease(job, secrets.token_urlsafe(24), worker, bool(on_gpu),
                              time.monotonic() + self.lease_seconds)  # fmt: skip
                try:  # as kit.finetune in-process: the whole job must fit, then step 1
                    check_quota(self.quota_for(record["student"]), record["steps"])
                    self._reserve(lease)
                except QuotaExceeded as error:
                    self.end(record, {"state": "failed", "error": job_error(error)})
                    continue
                self._leases[record["id"]] = lease
                log.info("job %s of %s claimed by %s", record["id"],
                         record["student"], worker)  # fmt: skip
                return {"job": self._seen(record), "lease": lease.token,
                        "lease_seconds": self.lease_seconds,
                        "request": job.request}  # fmt: skip
        return None

    def report(self, job_id: str, token: object, step: object, loss: object,
               seconds: object = 0.0) -> dict:  # fmt: skip
        """Settle step `step` (its loss), reserve the next; say whether to go on."""
        with self._lease_lock:
            lease = self._held(job_id, token)
            record = lease.job.record
            expected = record["step"] + 1
            whole = isinstance(step, int) and not isinstance(step, bool)
            if not whole or step != expected or lease.block is None:
                raise SettingError("worker_bad_step", step=str(step)[:20],
                                   expected=expected)  # fmt: skip
            if not _number(loss) or not _number(seconds) or seconds < 0:
                raise SettingError("bad_type", name="loss, seconds", kind="number",
                                   value=f"{loss!r}, {seconds!r}"[:80])  # fmt: skip
            if lease.on_gpu:  # the step's time on the worker's GPU, as in-process
                elapsed = time.monotonic() - lease.reserved_at
                lease.charge.used(gpu_seconds=min(float(seconds), elapsed))
            block, lease.block = lease.block, None
            block.__exit__(None, None, None)  # settled: one step used
            self.progress(record, step, float(loss))
            if step < record["steps"]:
                try:
                    self._reserve(lease)
                except QuotaExceeded as error:  # kit.finetune keeps the steps done
                    lease.stopped_by = error
            return {"continue": lease.block is not None,
                    "error": job_error(lease.stopped_by)}  # fmt: skip

    def finish(self, job_id: str, token: object, source: BinaryIO) -> dict:
        """Store the worker's adapter as the student's (checked, swapped in whole)."""
        with self._lease_lock:
            lease = self._held(job_id, token)
            record = lease.job.record
            manifest = AdapterZip(source).manifest  # damaged: 422, the lease kept
            ran, asked = manifest.get("steps"), manifest.get("steps_asked")
            ended = ran == record["steps"] or lease.stopped_by is not None
            if (
                (ran, asked) != (record["step"], record["steps"])
                or not ended
                or (manifest.get("losses") != record["losses"])
            ):
                raise SettingError("worker_adapter_mismatch", id=job_id,
                                   step=record["step"], steps=record["steps"])  # fmt: skip
            source.seek(0)
            adapter_id = self.store.upload(record["student"], record["name"], source)
            stopped = ran < asked
            self._drop(lease, {
                "state": "stopped" if stopped else "done", "adapter": adapter_id,
                "error": job_error(lease.stopped_by) if stopped else None,
            })  # fmt: skip
            return self._seen(record)

    def fail(self, job_id: str, token: object, error: object, *,
             interrupted: bool = False, detail: str = "") -> dict:  # fmt: skip
        """End a job its worker could not finish: failed, or interrupted (stopped)."""
        with self._lease_lock:
            lease = self._held(job_id, token)
            record = lease.job.record
            log.warning("job %s: worker %s reports %s: %s", job_id, lease.worker,
                        "interrupted" if interrupted else "failure", detail[:500])  # fmt: skip
            if interrupted:
                said = _lost(record, self.lease_seconds)
            else:
                said = _said(error) or job_error(
                    KitError("finetune_failed", id=record["id"])
                )
            state = "interrupted" if interrupted else "failed"
            self._drop(lease, {"state": state, "error": said})
            return self._seen(record)

    # --- leases ------------------------------------------------------------------------
    def expire(self) -> None:
        """End every job whose worker has been silent for longer than the lease."""
        now = time.monotonic()
        with self._lease_lock:
            for lease in [x for x in self._leases.values() if x.deadline < now]:
                record = lease.job.record
                log.warning("job %s: worker %s silent for %gs; interrupted", record["id"],
                            lease.worker, self.lease_seconds)  # fmt: skip
                self._drop(lease, {"state": "interrupted",
                                   "error": _lost(record, self.lease_seconds)})  # fmt: skip

    def _watch(self) -> None:
        while not self._stopping.wait(min(1.0, max(0.05, self.lease_seconds / 4))):
            self.expire()

    def _held(self, job_id: object, token: object) -> Lease:
        """Return the live lease of `job_id` if `token` is it (renewed), else 409."""
        lease = self._leases.get(job_id) if isinstance(job_id, str) else None
        if (
            lease is None
            or not isinstance(token, str)
            or not hmac.compare_digest(lease.token.encode(), token.encode())
        ):
            raise LeaseLost("worker_lease_lost", id=str(job_id)[:40])
        lease.deadline = time.monotonic() + self.lease_seconds
        return lease

    def _reserve(self, lease: Lease) -> None:
        """Reserve the next step for the job's student, as kit.finetune does."""
        account = self.quota_for(lease.job.record["student"])
        block = account.charge(finetune_steps=1, on_gpu=lease.on_gpu)
        lease.charge = block.__enter__()  # QuotaExceeded: no reservation was made
        lease.block, lease.reserved_at = block, time.monotonic()

    def _drop(self, lease: Lease, outcome: dict) -> None:
        """Give back an unused reservation, forget the lease, record the job's end."""
        if lease.block is not None:
            if lease.on_gpu:
                lease.charge.used(gpu_seconds=0.0)  # the step never ran
            block, lease.block = lease.block, None
            try:
                block.__exit__(JobStopping, JobStopping(), None)
            except JobStopping:
                pass  # the context manager re-raises what it was given
        self._leases.pop(lease.job.record["id"], None)
        self.end(lease.job.record, outcome)

    def _seen(self, record: dict) -> dict:
        return self.get(record["id"], record["student"])


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _lost(record: dict, seconds: float) -> dict | None:
    """Return the error of a job whose worker stopped or went silent mid-way."""
    return job_error(KitError("job_worker_lost", id=record["id"], step=record["step"],
                              steps=record["steps"], seconds=f"{seconds:g}"))  # fmt: skip


def _said(error: object) -> dict | None:
    """Return a worker's error record if it names a known message, else None."""
    if not isinstance(error, dict) or error.get("key") not in messages.CATALOGUE:
        return None
    fields, terms = error.get("fields") or {}, error.get("terms") or []
    if not isinstance(fields, dict) or not isinstance(terms, list):
        return None
    try:
        messages.t(error["key"], "en", **{k: v for k, v in fields.items()})
    except (KeyError, IndexError, ValueError):
        return None  # fields that do not fill the message
    return {"key": error["key"], "fields": fields,
            "terms": [t for t in terms if isinstance(t, str)]}  # fmt: skip
