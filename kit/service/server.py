"""The Baeum service: one model for the whole class, behind JupyterHub (`kit serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor

import torch
from tornado import web
from tornado.httpserver import HTTPServer

import kit
from kit import messages
from kit.cli import quota as quota_cli
from kit.errors import KitError, SettingError
from kit.ledger.policy import Policy, file_stamp, load_policy
from kit.ledger.store import Ledger
from kit.loading import load_local
from kit.model import Model
from kit.quota import Quota
from kit.results import Reply
from kit.service.config import ServiceConfig
from kit.service.http import MissingHandler, log
from kit.service.vllm_setup import start_vllm

STOP_SECONDS = 30.0  # how long a stop waits for the requests in flight


class Service:
    """Everything one running service holds: model, engine, ledger, policy."""

    def __init__(self, config: ServiceConfig, model: Model, auth) -> None:
        from kit.service.adapter_store import AdapterStore
        from kit.service.batching import Batcher
        from kit.service.worker_jobs import job_queue

        self.config = config
        # With vLLM, vLLM generates; this process trains and tokenizes.
        self.vllm = start_vllm(config, model) if config.engine == "vllm" else None
        self.model = model = self.vllm.model if self.vllm else model
        self.auth = auth
        self.stopping = False
        config.dir.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger(config.quota_db, stale_after=config.stale_after)
        self._policy = load_policy(config.quota_file)  # a broken file stops the start
        self._policy_lock = threading.Lock()
        self._limits_lock = threading.Lock()
        self._bad_stamp: tuple | None = None
        # Disk and ledger work off the IO loop; tokenizer and forward passes in one
        # thread of their own (the batcher's thread does the generating).
        self.io = ThreadPoolExecutor(4, thread_name_prefix="kit-service-io")
        self.tokens = ThreadPoolExecutor(1, thread_name_prefix="kit-service-tokens")
        # A server batches what arrives together itself: several batches at once.
        parallel = {} if self.vllm is None else {"parallel": 4, "window": 0.05}
        self.batcher = Batcher(model, max_batch=config.max_batch,
                               per_student=config.per_student, serial=config.serial,
                               **parallel)  # fmt: skip
        served = self.vllm.adapters if self.vllm else None
        self.store = AdapterStore(config.adapters_dir, model, served=served)
        self.jobs = job_queue(config, model, self.store, self.quota)  # here, or workers
        self._in_flight, self._stopped = 0, False
        self._idle = threading.Condition()
        self._info: dict | None = None

    def start(self) -> None:
        """Release reservations a crash left open, then start the engine threads."""
        # A single SQLite file is this service's alone: anything open is a crash's.
        sqlite = self.ledger.url.startswith("sqlite")
        released = self.ledger.expire_stale(0 if sqlite else self.config.stale_after)
        if released:
            log.warning("released %d quota reservations left by a crash", released)
        self.batcher.start()
        self.jobs.start()

    def stop(self) -> None:
        """Refuse new work, fail queued work (503), wait for requests, close the ledger."""
        with self._idle:
            if self._stopped:
                return
            self._stopped = self.stopping = True
        self.batcher.stop()
        self.jobs.stop()
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight <= 0, timeout=STOP_SECONDS)
        self.io.shutdown(wait=True)
        self.tokens.shutdown(wait=True)
        self.ledger.engine.dispose()
        if self.vllm is not None:
            self.vllm.stop()  # the server, if the service started it

    def request_started(self) -> None:
        with self._idle:
            self._in_flight += 1

    def request_finished(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    # --- quotas --------------------------------------------------------------------
    def policy(self) -> Policy:
        """Return the teacher's policy, reread when the quota file changed."""
        path = self.config.quota_file
        with self._policy_lock:
            stamp = file_stamp(path)
            if stamp != self._policy.stamp and stamp != self._bad_stamp:
                try:
                    self._policy = load_policy(path)
                except KitError as error:  # a hand edit broke it: keep the last good
                    self._bad_stamp = stamp
                    log.error("quota file not reloaded: %s", error.in_language("en"))
            return self._policy

    def quota(self, student: str) -> Quota:
        """Return `student`'s quota under the current policy."""
        return Quota(self.policy(), self.ledger, student)

    def set_limits(self, student: str | None, changes: dict) -> Policy:
        """Write new limits to the quota file (one writer at a time); return the policy."""
        with self._limits_lock:
            quota_cli.set_limits(self.config.quota_file, student, changes)
            return self.policy()

    # --- work off the IO loop -------------------------------------------------------
    async def in_io(self, work: Callable, *args, **kwargs):
        """Run disk or ledger work in the IO threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.io, lambda: work(*args, **kwargs))

    async def in_tokens(self, work: Callable, *args, **kwargs):
        """Run tokenizer work or a forward pass in the tokens thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.tokens, lambda: work(*args, **kwargs))

    @contextlib.asynccontextmanager
    async def charged(self, account: Quota, **amounts) -> AsyncIterator:
        """Reserve `amounts` before the block and settle after, as Quota.charge does."""
        block = account.charge(**amounts)
        charge = await self.in_io(block.__enter__)
        try:
            yield charge
        except BaseException as error:
            await self.in_io(block.__exit__, type(error), error, error.__traceback__)
            raise
        await self.in_io(block.__exit__, None, None, None)

    def prompt_limit(self) -> int:
        """Return the most prompt tokens a request may send (one is left to answer)."""
        room = self.model.context_length - 1
        wanted = self.config.max_prompt_tokens
        return min(room, wanted) if wanted else room

    async def generate(
        self, student: str, rows: list[torch.Tensor], settings: dict, adapter=None, readers=None
    ) -> tuple[list[Reply], int | None]:  # fmt: skip
        """Answer `rows` in the shared batches, streamed to `readers`; charge `student`."""
        longest = max(int(row.shape[0]) for row in rows)
        if longest > self.prompt_limit():
            raise SettingError("prompt_too_long", tokens=longest,
                               limit=self.prompt_limit())  # fmt: skip
        count = len(rows)
        max_new = min(settings["max_new_tokens"], self.model.context_length - longest)
        account = self.quota(student)
        left = await self.in_io(account.left, "tokens")
        clamped = None
        if left is not None and 1 <= left < max_new * count:  # as local mode does
            clamped = int(left)
            max_new = max(1, int(left) // count)
        settings = {**settings, "max_new_tokens": max_new}
        on_gpu = self.model.device.type == "cuda"
        budget = {"generations": count, "tokens": max_new * count}
        async with self.charged(account, on_gpu=on_gpu, **budget) as charge:
            future = self.batcher.submit(student, rows, settings, adapter, readers)
            replies = await asyncio.wrap_future(future)
            used = {"generations": count, "tokens": sum(r.tokens for r in replies)}
            if on_gpu:  # the batch's time on the GPU, not the time spent queued
                used["gpu_seconds"] = max(r.seconds for r in replies)
            charge.used(**used)
        return replies, clamped

    async def open_adapter(self, student: str, adapter_id, teacher: bool):
        """Return the Adapter `adapter_id` if `student` may use it (None: the base)."""
        if adapter_id is None:
            return None
        if not isinstance(adapter_id, str):
            raise SettingError("bad_type", name="adapter", kind="str 'owner/name'",
                               value=adapter_id)  # fmt: skip
        return await self.in_io(self.store.open, student, adapter_id, teacher=teacher)

    def submit_finetune(self, student: str, rows, settings, **job) -> dict:
        """Queue a fine-tune job (JobQueue.submit): checked now, run in turn."""
        return self.jobs.submit(student, rows, settings, **job)

    def info(self) -> dict:
        """Return what GET api/info answers: which model, how big, where."""
        if self._info is None:
            model = self.model
            self._info = {
                "name": model.name, "fingerprint": model.fingerprint(),
                "context_length": model.context_length,
                "parameters": model.parameter_count(), "device": str(model.device),
                "dtype": str(model.dtype).removeprefix("torch."),
                "engine": model.engine.label, "version": kit.__version__,
            }  # fmt: skip
        # Batches run so far: how well the class's requests share the model.
        return {**self._info, "batching": self.batcher.stats()}


def make_app(
    config: ServiceConfig, *, auth=None, model: Model | None = None
) -> web.Application:
    """Return the service's tornado app (the model loaded once unless given)."""
    from kit.service import handlers as h
    from kit.service.quota import OAuthCallback

    if auth is None:
        auth = hub_auth()
    if model is None:  # the weights themselves, even where KIT_SERVICE_URL is set
        # vLLM: this process keeps the torch model (training), no llama.cpp copy.
        local_engine = "transformers" if config.engine == "vllm" else None
        model = load_local(config.model, engine=local_engine)
    service = Service(config, model, auth)
    service.start()
    p = config.prefix
    routes = [(p + path, handler, {"service": service}) for path, handler in h.ROUTES]
    from jupyterhub.services.auth import HubOAuth

    if isinstance(auth, HubOAuth):  # browser login for the teacher page
        routes.append((p + "oauth_callback", OAuthCallback, {"service": service}))
    return web.Application(
        routes,
        default_handler_class=MissingHandler,
        default_handler_args={"service": service},
        cookie_secret=os.urandom(32),
        service=service,
    )


def hub_auth():
    """Return the hub's OAuth client for this service (from the hub's environment)."""
    from jupyterhub.services.auth import HubOAuth

    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    if not token:
        raise KitError("service_no_hub")
    return HubOAuth(api_token=token, cache_max_age=60)


def service_of(app: web.Application) -> Service:
    """Return the Service behind an app made by make_app."""
    return app.settings["service"]


def http_server(app: web.Application) -> HTTPServer:
    """Return the HTTP server for `app`; bodies far over the limit are cut off early."""
    limit = service_of(app).config.max_body_size
    # Between the limit and 4x it the handler answers a clear 413 in JSON.
    return HTTPServer(app, xheaders=True, max_body_size=4 * limit)


async def run_until(app: web.Application, server: HTTPServer, stop: asyncio.Event):
    """Serve until `stop` is set, then stop cleanly: queued work fails with 503."""
    await stop.wait()
    service = service_of(app)
    service.stopping = True  # new requests get 503 from here on
    await asyncio.get_running_loop().run_in_executor(None, service.stop)
    server.stop()
    await server.close_all_connections()


def serve(config: ServiceConfig) -> None:
    """Load the model once, listen, and serve until SIGTERM or SIGINT (`kit serve`)."""
    import signal

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in ("kit", "tornado.access", "tornado.application"):
        logging.getLogger(name).setLevel(logging.INFO)  # requests, not imports' chatter

    async def main() -> None:
        app = make_app(config)
        server = http_server(app)
        server.listen(config.port, config.host)
        url = f"http://{config.host}:{config.port}{config.prefix}"
        service = service_of(app)
        print(messages.t("service_listening", model=service.model.name, url=url,
                         dir=config.dir), flush=True)  # fmt: skip
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await run_until(app, server, stop)
        print(messages.t("service_stopped"), flush=True)

    asyncio.run(main())
