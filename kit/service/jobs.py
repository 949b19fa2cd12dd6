"""JobQueue: fine-tune jobs, N at a time, round-robin between students.

A job's record is folder/<id>.json, rewritten atomically at each change. States:
queued -> running -> done | stopped | failed, or interrupted (the service stopped or
restarted first; nothing saved). "stopped" means today's quota ran out mid-way: the
adapter keeps the steps done and `error` holds the quota message that stopped it.
With `--finetune-runner workers`, remote workers train them (see worker_jobs).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kit import datasets, messages, quota
from kit.errors import KitError, NotAllowed, NotFound, QuotaExceeded, ServiceUnavailable
from kit.finetune import finetune
from kit.model import Model
from kit.prompt import Prompt
from kit.service.adapter_names import check_name, owner_folder
from kit.service.adapter_store import AdapterStore
from kit.service.job_request import check_request
from kit.service.job_steps import JobSteps, JobStopping, interrupted_error, job_error

log = logging.getLogger(__name__)
JOB_ID = re.compile(r"[0-9a-f]{12}")
WRITE_EVERY = 5  # steps between record writes while running
LIVE = ("queued", "running")


@dataclass(eq=False)
class _Job:
    record: dict
    data: datasets.Dataset
    prompt: Prompt
    settings: dict
    request: dict  # as submitted: what a remote worker checks and trains again


class JobQueue:
    """Fine-tune jobs: checked at submit, run by `workers` threads, fair to students."""

    def __init__(
        self,
        model: Model,
        store: AdapterStore,
        folder: Path,
        quota_for: Callable[[str], quota.Quota],
        *,
        workers: int = 1,
        max_rows: int = 2000,
    ) -> None:
        self.model, self.store, self.folder = model, store, Path(folder)
        self.quota_for, self.workers, self.max_rows = quota_for, workers, max_rows
        self._records: dict[str, dict] = {}
        self._queues: OrderedDict[str, deque[_Job]] = OrderedDict()  # turn order
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # a job was queued, or stopping
        self._ended = threading.Condition(self._lock)  # a job reached its end state
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.folder.mkdir(parents=True, exist_ok=True)
        self._load()

    def start(self) -> None:
        """Start the worker threads."""
        while len(self._threads) < self.workers:
            name = f"kit-jobs-{len(self._threads)}"
            thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Stop: queued jobs and running ones (after their step) become interrupted."""
        with self._work:
            self._stopping.set()
            for jobs in self._queues.values():
                for job in jobs:
                    self._interrupt(job.record)
            self._queues.clear()
            self._work.notify_all()
            self._ended.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def submit(
        self,
        student: str,
        rows: list[dict],
        settings: dict,
        *,
        name: str | None = None,
        lang: str | None = None,
        dataset: str | None = None,
    ) -> dict:
        """Check a fine-tune request now (4xx at once), queue it, return its record."""
        if self._stopping.is_set():
            raise ServiceUnavailable("service_stopping")
        owner_folder(student)
        job_id = secrets.token_hex(6)
        name = check_name(f"ft-{job_id}" if name is None else name)
        asked = dict(rows=rows, settings=settings, lang=lang, dataset=dataset)
        data, prompt, settings = check_request(
            self.model, rows, settings, lang=lang, max_rows=self.max_rows,
            dataset=dataset,
        )  # fmt: skip
        check_quota(self.quota_for(student), settings["steps"])
        record = {"id": job_id, "student": student, "name": name, "state": "queued",
                  "position": None, "step": 0, "steps": settings["steps"], "losses": [],
                  "adapter": None, "error": None, "created": _now(), "started": None,
                  "finished": None}  # fmt: skip
        with self._work:
            if self._stopping.is_set():
                raise ServiceUnavailable("service_stopping")
            self._records[job_id] = record
            self._queues.setdefault(student, deque()).append(
                _Job(record, data, prompt, settings, asked)
            )
            self._write(record)
            self._work.notify()
            return self._view(record)

    def get(self, job_id: str, requester: str, *, teacher: bool = False) -> dict:
        """Return a job's record, to its student or a teacher."""
        with self._lock:
            record = self._records.get(job_id) if isinstance(job_id, str) else None
            if record is None:
                raise NotFound("job_not_found", id=str(job_id)[:40])
            if record["student"] != requester and not teacher:
                raise NotAllowed("job_not_allowed", id=job_id)
            return self._view(record)

    def wait(self, job_id: str, timeout: float | None = None) -> dict:
        """Wait until the job ends (done, stopped, failed, interrupted); return it."""
        with self._lock:
            if job_id not in self._records:
                raise NotFound("job_not_found", id=str(job_id)[:40])
            self._ended.wait_for(
                lambda: self._records[job_id]["state"] not in LIVE, timeout
            )
            return self._view(self._records[job_id])

    def jobs_of(self, student: str) -> list[dict]:
        """Return every job of `student`, oldest first."""
        with self._lock:
            mine = [r for r in self._records.values() if r["student"] == student]
            return [self._view(r) for r in sorted(mine, key=lambda r: r["created"])]

    # --- the workers ---------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._work:
                while not self._queues and not self._stopping.is_set():
                    self._work.wait()
                if self._stopping.is_set():
                    return
                job = self._next()
            self._train(job)

    def take(self) -> _Job | None:
        """Return the next job in turn, now running (None: none queued, or stopping)."""
        with self._lock:
            stopping = self._stopping.is_set()
            return None if stopping or not self._queues else self._next()

    def _next(self) -> _Job:  # the lock held
        student = next(iter(self._queues))  # round-robin: first in turn
        job = self._queues[student].popleft()
        if self._queues[student]:
            self._queues.move_to_end(student)
        else:
            del self._queues[student]
        job.record.update(state="running", started=_now())
        self._write(job.record)
        return job

    def _train(self, job: _Job) -> None:
        """Run one job as its student; record done, stopped, failed or interrupted."""
        record = job.record
        account = self.quota_for(record["student"])
        steps = JobSteps(account, self.model, record, self.progress, self._stopping)
        outcome: dict = {}
        try:
            steps.hold()  # LoRA's random initial weights: the RNG is ours until step 1
            try:
                with quota.acting_as(steps.account):
                    adapter = finetune(
                        self.model,
                        job.data,
                        prompt=job.prompt,
                        progress=False,
                        plot=False,
                        on_step=steps.on_step,
                        **job.settings,
                    )
            finally:
                steps.release()
            adapter_id = self.store.save(record["student"], record["name"], adapter)
            stopped = adapter.manifest["steps"] < adapter.manifest["steps_asked"]
            outcome = {
                "state": "stopped" if stopped else "done",
                "adapter": adapter_id,
                "step": len(adapter.losses),
                "losses": list(adapter.losses),
                "error": job_error(steps.stopped_by) if stopped else None,
            }
        except JobStopping:
            outcome = {"state": "interrupted", "error": interrupted_error(record)}
        except KitError as error:
            outcome = {"state": "failed", "error": job_error(error)}
        except Exception:  # logged; the student gets a plain message
            log.exception("fine-tune job %s failed", record["id"])
            failed = KitError("finetune_failed", id=record["id"])
            outcome = {"state": "failed", "error": job_error(failed)}
        self.end(record, outcome)

    def end(self, record: dict, outcome: dict) -> None:
        """Record a job's end (done, stopped, failed, interrupted); wake its waiters."""
        with self._lock:
            record.update(outcome, finished=_now())
            self._write(record)
            self._ended.notify_all()

    def progress(self, record: dict, step: int, loss: float) -> None:
        """Record a job's step and loss (written to disk every few steps)."""
        with self._lock:
            record["step"] = step
            record["losses"].append(loss)
            if step % WRITE_EVERY == 0:
                self._write(record)

    # --- records -------------------------------------------------------------------
    def _load(self) -> None:
        """Read every record; a job left queued or running by a crash is interrupted."""
        found = []
        for path in self.folder.glob("*.json"):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                log.warning("skipping unreadable job record %s", path)
                continue
            if JOB_ID.fullmatch(path.stem) and isinstance(record, dict):
                found.append({**record, "id": path.stem})
        for record in sorted(found, key=lambda r: str(r.get("created"))):
            if record.get("state") in LIVE:
                self._interrupt(record)
            self._records[record["id"]] = record

    def _interrupt(self, record: dict) -> None:
        record.update(
            state="interrupted", error=interrupted_error(record), finished=_now()
        )
        self._write(record)

    def _write(self, record: dict) -> None:
        path = self.folder / f"{record['id']}.json"
        temp = path.with_name(path.name + ".tmp")
        temp.write_text(json.dumps(record, ensure_ascii=False, default=str))
        os.replace(temp, path)  # readers and restarts see the old record or the new

    def _view(self, record: dict) -> dict:
        """Return a copy of `record`, with its place in the queue when queued."""
        view = copy.deepcopy(record)
        view["position"] = None
        if record["state"] == "queued":
            order, queues = [], [list(jobs) for jobs in self._queues.values()]
            while any(queues):  # the round-robin order the workers will take them in
                order += [jobs.pop(0).record["id"] for jobs in queues if jobs]
            if record["id"] in order:
                view["position"] = order.index(record["id"]) + 1
        return view


def check_quota(account: quota.Quota, steps: int) -> None:
    """Refuse now, as local mode does, a job needing more steps than are left today."""
    left = account.left("finetune_steps")
    if left is not None and left < steps:
        limit = account.limits()["finetune_steps"] or 0
        raise QuotaExceeded("quota_too_big", kind=messages.Term("kind_finetune_steps"),
                            need=steps, left=int(left), limit=int(limit),
                            reset=account.reset_text())  # fmt: skip


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
