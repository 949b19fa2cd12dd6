"""kit.finetune in hub mode: send the rows to the service's queue, watch the job."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from urllib.parse import quote

from tqdm.auto import tqdm

from kit import messages
from kit.adapters import LossPlot
from kit.errors import KitError, ServiceUnavailable
from kit.hub.adapters import RemoteAdapter, open_adapter
from kit.hub.client import RemoteModel
from kit.hub.connect import connect
from kit.hub.http import call, rebuild
from kit.notebook import in_notebook
from kit.prompt import Prompt

POLL_SECONDS = 1.0
FINISHED = ("done", "stopped")


def finetune_remote(
    model: RemoteModel,
    data,
    *,
    prompt: Prompt | None = None,
    plot: bool | None = None,
    progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
    **settings: object,
) -> RemoteAdapter:
    """Queue a LoRA fine-tune of the service's model on `data`; return the adapter."""
    base = model.base if isinstance(model, RemoteAdapter) else model
    sent = {k: v for k, v in settings.items() if v is not None}
    if prompt is not None:
        sent["prompt"] = {
            "system": prompt.system,
            "template": prompt.template,
            "examples": prompt.examples,
            "answer": prompt.answer,
            "max_new_tokens": prompt.max_new_tokens,
        }
    body: dict = {"rows": list(data), "settings": sent}
    if data.lang:
        body["lang"] = data.lang
    if data.name:  # the manifest names the data set ("movie_genres"), as local mode
        body["dataset"] = data.name
    job = call("POST", "api/finetune", body, base=base.url)["job"]
    return wait_for_job(job["id"], base=base, plot=plot, progress=progress,
                        on_step=on_step, first=job)  # fmt: skip


def wait_for_job(
    job_id: str,
    *,
    base: RemoteModel | None = None,
    plot: bool | None = None,
    progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
    first: dict | None = None,
) -> RemoteAdapter:
    """Wait for a fine-tune job on the service, showing its progress; return the adapter."""
    base = base or connect()
    job = first or _get(base, job_id)
    live = LossPlot() if (plot if plot is not None else in_notebook()) else None
    running = messages.t("finetune_running")
    bar = tqdm(total=int(job.get("steps") or 0) or None, unit="step", desc=running,
               disable=not progress)  # fmt: skip
    seen = 0
    try:
        while True:
            waiting = job.get("state") == "queued"
            place = job.get("position") or "?"
            said = messages.t("remote_queued", position=place) if waiting else running
            bar.set_description(said)  # redraws: the clock shows a queue is alive
            losses = [float(x) for x in job.get("losses") or ()]
            for step in range(seen + 1, len(losses) + 1):
                if on_step is not None:
                    on_step(step, losses[step - 1])
            if len(losses) > seen:
                bar.update(len(losses) - seen)
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
                if live:
                    live.update(losses)
                seen = len(losses)
            if job.get("state") in FINISHED and job.get("adapter"):
                break
            _raise_if_ended(job)
            time.sleep(POLL_SECONDS)
            job = _get(base, job_id)
    except KeyboardInterrupt:
        # The job is the service's now: stopping the cell only stops watching it.
        raise KitError("remote_job_detached", job=job_id) from None
    except ServiceUnavailable as lost:  # say which job to look for when it is back
        raise ServiceUnavailable(
            "remote_job_lost", job=job_id, problem=str(lost)
        ) from None
    finally:
        bar.close()
    if job["state"] == "stopped":
        reason = _error(job)
        print(messages.t("finetune_stopped", steps=len(losses),
                         reason=str(reason) if reason else "-"), file=sys.stderr)  # fmt: skip
    return open_adapter(base, str(job["adapter"]))


def _get(base: RemoteModel, job_id: str) -> dict:
    return call("GET", f"api/jobs/{quote(str(job_id), safe='')}", base=base.url)["job"]


def _error(job: dict) -> KitError | None:
    error = job.get("error")
    if not isinstance(error, dict) or error.get("key") not in messages.CATALOGUE:
        return None  # the caller's own message instead of an unknown key
    fields = error.get("fields")
    terms = error.get("terms")
    if terms is None and isinstance(fields, dict):  # a record without "terms"
        terms = [k for k, v in fields.items()
                 if isinstance(v, str) and v.startswith("kind_")
                 and v in messages.CATALOGUE]  # fmt: skip
    return rebuild(KitError, error["key"], fields, terms, error.get("message"))


def _raise_if_ended(job: dict) -> None:
    """Raise the job's own error once it failed, stopped empty or was interrupted."""
    state = job.get("state")
    if state == "interrupted":
        raise _error(job) or KitError("remote_job_interrupted", job=job.get("id", "?"))
    if state in ("failed", *FINISHED):
        raise _error(job) or KitError("remote_job_failed", job=job.get("id", "?"))
