"""Batcher: answer many students' prompts on one model, in fair batches."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections import OrderedDict, deque
from contextlib import nullcontext

import torch

from kit import quota
from kit.errors import QuotaExceeded, ServiceUnavailable, SettingError
from kit.ledger.policy import Policy
from kit.ledger.store import Ledger
from kit.model import Model
from kit.rng import RNG_LOCK
from kit.service.batch_rows import (
    Reader,
    Request,
    Row,
    compatible,
    fail,
    resolve,
    streams,
    without_gone,
)

log = logging.getLogger(__name__)
SETTINGS = ("max_new_tokens", "temperature", "top_p", "top_k", "seed")


class TooBusy(QuotaExceeded):
    """This student already has as many requests in flight as allowed (HTTP 429)."""


class Batcher:
    """Answer many students' prompts on one model, in fair batches."""

    def __init__(
        self,
        model: Model,
        *,
        max_batch: int = 16,
        per_student: int = 4,
        window: float = 0.3,
        settle: float = 0.05,
        serial: bool = False,
        parallel: int = 1,
    ) -> None:
        self.model = model
        # Batches at the engine at once: 1 in process; a server (vLLM) batches itself,
        # so several go at once and it schedules them together.
        self.parallel = max(1, parallel)
        self._slots = threading.BoundedSemaphore(self.parallel)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            self.parallel, thread_name_prefix="kit-batch"
        )
        self._running: set[concurrent.futures.Future] = set()
        self.max_batch = 1 if serial else max_batch
        self.per_student = per_student
        self.window, self.settle = window, settle
        # The service charges each student around submit(); the worker charges nobody.
        self._exempt = quota.Quota(Policy(), Ledger("sqlite://"), "baeum", exempt=True)
        self._queues: OrderedDict[str, deque[Row]] = OrderedDict()  # turn order
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._abort = threading.Event()  # set by stop() after the grace period
        self._thread: threading.Thread | None = None
        self._stats = {"batches": 0, "rows": 0, "largest_batch": 0}

    def start(self) -> None:
        """Start the one worker thread that runs every batch."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="kit-batcher", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 30, grace: float = 20) -> None:
        """Start nothing new, fail what is queued (service_stopping), join.

        The batch being generated gets `grace` seconds to finish; then it is cut
        short and its requests fail with service_stopping too, so that nobody waits
        on a stopping service (a restart must not hang a student's cell).
        """
        with self._work:
            self._stopping.set()
            queued = [row for rows in self._queues.values() for row in rows]
            self._queues.clear()
            self._work.notify_all()
        for row in queued:
            fail(row.request.future, ServiceUnavailable("service_stopping"))
        if self._thread is not None:
            started = time.monotonic()
            self._thread.join(grace)
            left = max(0.0, grace - (time.monotonic() - started))
            concurrent.futures.wait(list(self._running), left)
            self._abort.set()
            self._thread.join(timeout)
            concurrent.futures.wait(list(self._running), timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def submit(
        self,
        student: str,
        rows: list[torch.Tensor],
        settings: dict,
        model: Model | None = None,
        readers: list[Reader | None] | None = None,
    ) -> concurrent.futures.Future:
        """Queue prompt ids for `student`; the future gives list[Reply] in row order.

        `readers` (one per row, or None) get each row's text as it is made.
        """
        model = model or self.model
        settings = {
            k: settings[k] for k in SETTINGS
        }  # kit.model.generation_settings(...)'s dict
        if not rows:
            raise SettingError("bad_messages", problem="no prompts")
        for row in rows:
            # One student's over-long prompt must not fail a batch shared with others.
            model._check_length(int(row.shape[0]), 1)
        future: concurrent.futures.Future = concurrent.futures.Future()
        request = Request(student, model, settings, future, [None] * len(rows))
        request.readers = readers if readers and len(readers) == len(rows) else None
        request.waiting = len(rows)
        limit = model.context_length - settings["max_new_tokens"]
        with self._work:
            if self._stopping.is_set():
                raise ServiceUnavailable("service_stopping")
            if self._in_flight.get(student, 0) >= self.per_student:
                raise TooBusy("batch_too_busy", limit=self.per_student)
            self._in_flight[student] = self._in_flight.get(student, 0) + 1
            queue = self._queues.setdefault(student, deque())
            for i, ids in enumerate(rows):
                queue.append(Row(request, i, ids, int(ids.shape[0]) <= limit))
            self._work.notify()
        future.add_done_callback(lambda _: self._release(student))
        return future

    def stats(self) -> dict:
        """Return batches run, rows answered, the largest batch, and rows queued now."""
        with self._lock:
            queued = sum(len(rows) for rows in self._queues.values())
            return {**self._stats, "queued": queued}

    # --- the worker ----------------------------------------------------------------
    def _release(self, student: str) -> None:
        with self._lock:
            left = self._in_flight.get(student, 0) - 1
            if left > 0:
                self._in_flight[student] = left
            else:
                self._in_flight.pop(student, None)

    def _run(self) -> None:
        while True:
            with self._work:
                while not self._queues and not self._stopping.is_set():
                    self._work.wait()
            if self._stopping.is_set():
                return
            # Rows keep queueing (and take turns) while every slot is busy.
            while not self._slots.acquire(timeout=0.5):
                if self._stopping.is_set():
                    return
            self._gather()
            with self._work:
                if self._stopping.is_set():
                    self._slots.release()
                    return
                batch = self._next_batch()
            if not batch:
                self._slots.release()
            elif self.parallel == 1:
                self._answer_in_slot(batch)
            else:
                running = self._pool.submit(self._answer_in_slot, batch)
                self._running.add(running)
                running.add_done_callback(self._running.discard)

    def _answer_in_slot(self, batch: list[Row]) -> None:
        try:
            self._answer(batch)
        finally:
            self._slots.release()

    def _gather(self) -> None:
        """Let requests sent together arrive: until none comes for `settle` seconds.

        When a batch ends, its students send their next requests within tens of
        milliseconds of each other; a fixed 5 ms wait split them into a small batch
        and a large one (hub_load: 3.3x instead of 5.6x one-at-a-time).
        """
        deadline = time.monotonic() + self.window
        seen = -1
        while not self._stopping.is_set():
            with self._lock:
                queued = sum(len(rows) for rows in self._queues.values())
            if (
                queued >= self.max_batch
                or queued == seen
                or time.monotonic() >= deadline
            ):
                return
            seen = queued
            self._stopping.wait(min(self.settle, max(0.0, deadline - time.monotonic())))

    def _next_batch(self) -> list[Row]:
        """Take rows round-robin, one per student a turn, compatible with the first."""
        self._drop_finished()
        if not self._queues:
            return []
        lead = next(iter(self._queues.values()))[0]
        batch: list[Row] = []
        while len(batch) < self.max_batch:
            taken = False
            for queue in self._queues.values():
                if len(batch) >= self.max_batch:
                    break
                if queue and compatible(lead, queue[0]):
                    batch.append(queue.popleft())
                    taken = True
                    if lead.request.seeded or not lead.fits:
                        break  # only this request's rows, or this row alone
            if not taken or not lead.fits:
                break
        for row in batch:  # served students go to the back, in the order served
            self._queues.move_to_end(row.request.student)
        for student in [s for s, q in self._queues.items() if not q]:
            del self._queues[student]
        return batch

    def _drop_finished(self) -> None:
        """Forget rows whose request already failed or was cancelled."""
        for student in list(self._queues):
            rows = [r for r in self._queues[student] if not r.request.future.done()]
            if rows:
                self._queues[student] = deque(rows)
            else:
                del self._queues[student]

    def _answer(self, batch: list[Row]) -> None:
        """Generate one batch and hand each reply to its request."""
        batch = without_gone(batch)  # streamed rows whose reader left while queued
        if not batch:
            return
        lead = batch[0].request
        settings = dict(lead.settings)
        sampled = settings["temperature"] > 0
        if not sampled:
            settings["seed"] = None  # greedy: a seed changes nothing, so touch no RNG
        # Sampling here draws from torch's one generator, shared with jobs (kit.rng).
        local = sampled and lead.model.engine.local_rng
        try:
            streamer, abort = streams(batch, self._abort)  # readers get their rows
            with quota.acting_as(self._exempt), RNG_LOCK if local else nullcontext():
                replies = lead.model._generate_batch(
                    [row.ids for row in batch], settings, stream=streamer,
                    abort=abort,
                )  # fmt: skip
            if self._abort.is_set():  # cut short by stop(): not an answer
                raise ServiceUnavailable("service_stopping")
        except Exception as error:  # the batch's requests get it
            log.warning("batch of %d rows failed: %r", len(batch), error)
            for row in batch:
                fail(row.request.future, error)
            return
        with self._lock:
            self._stats["batches"] += 1
            self._stats["rows"] += len(batch)
            self._stats["largest_batch"] = max(self._stats["largest_batch"], len(batch))
        for row, reply in zip(batch, replies):
            request = row.request
            request.replies[row.index] = reply
            request.waiting -= 1
            if request.waiting == 0:
                resolve(request.future, request.replies)
