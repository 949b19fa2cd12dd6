"""A fine-tune job's steps, charged to its student on its own random stream; its errors."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable

from kit import messages, quota
from kit.errors import KitError, QuotaExceeded
from kit.model import Model
from kit.rng import OwnStream


class JobStopping(Exception):
    """Raised from on_step when the service stops: the job ends as interrupted."""


class JobSteps(OwnStream):
    """One job's training steps: charged to its student, on its own random stream.

    The job holds the generator (kit.rng) from its start to the end of each step, so
    its seed gives the same losses as in local mode, and a student's seeded sample
    the same text, whatever runs beside it.
    """

    def __init__(self, account: quota.Quota, model: Model, record: dict,
                 progress: Callable, stopping: threading.Event) -> None:  # fmt: skip
        super().__init__(model.device)
        self.real, self.record = account, record
        self.progress, self.stopping = progress, stopping
        self.account = copy.copy(account)  # the service's own object stays untouched
        self.account.charge = self._charge  # type: ignore[method-assign]
        self.stopped_by: QuotaExceeded | None = None

    def _charge(self, **amounts):
        self.hold()
        return RememberingCharge(self.real.charge(**amounts), self)

    def on_step(self, step: int, loss: float) -> None:
        """Record progress; let others draw until the next step (unless it ended)."""
        self.progress(self.record, step, loss)
        if self.stopping.is_set():
            raise JobStopping  # still holding: finetune restores the RNG on its way out
        if step < self.record["steps"]:
            self.release()  # taken again by the next step's charge


class RememberingCharge:
    """A step's quota charge that remembers the QuotaExceeded ending the training."""

    def __init__(self, inner, steps: JobSteps) -> None:
        self.inner, self.steps = inner, steps

    def __enter__(self):
        try:
            return self.inner.__enter__()
        except QuotaExceeded as error:  # kit.finetune keeps the steps done; we say why
            self.steps.stopped_by = error
            raise

    def __exit__(self, *exc) -> bool | None:
        return self.inner.__exit__(*exc)


def job_error(error: KitError | None) -> dict | None:
    """Return an error as the record keeps it: key, fields, and which are terms."""
    if error is None:
        return None
    fields = json.loads(json.dumps(error.fields, ensure_ascii=False, default=str))
    terms = [k for k, v in error.fields.items() if isinstance(v, messages.Term)]
    return {"key": error.key, "fields": fields, "terms": terms}


def interrupted_error(record: dict) -> dict | None:
    """Return the error record of a job the service stopped before it ended."""
    step, steps = record.get("step", 0), record.get("steps", 0)
    return job_error(
        KitError("job_interrupted", id=record["id"], step=step, steps=steps)
    )
