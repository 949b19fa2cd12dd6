"""Test helpers: a fake hub that knows some tokens, and a Baeum service on a free port."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tornado.netutil import bind_sockets

from kit.model import Model
from kit.service.config import ServiceConfig
from kit.service.server import Service, http_server, make_app, run_until, service_of

SCOPE = "access:services!service=baeum"


def user(name: str, *, groups=(), scopes=(SCOPE,)) -> dict:
    """Return a user model as the hub answers it for a token."""
    return {"name": name, "kind": "user", "admin": False, "groups": list(groups),
            "scopes": list(scopes)}  # fmt: skip


def student(name: str) -> dict:
    """Return a student's user model (the service's access scope, no groups)."""
    return user(name)


def teacher(name: str) -> dict:
    """Return a teacher's user model (in the hub group 'teachers')."""
    return user(name, groups=["teachers"])


class FakeHubAuth:
    """Answer user_for_token as HubOAuth does, from a fixed {token: user model}."""

    def __init__(self, users: dict[str, dict]) -> None:
        self.users = dict(users)
        self.calls = 0

    async def user_for_token(
        self, token: str, use_cache: bool = True, session_id: str = "", *, sync=False
    ) -> dict | None:
        """Return the user model of `token`, or None if the hub does not know it."""
        self.calls += 1
        found = self.users.get(token)
        return dict(found) if found is not None else None


@contextmanager
def serving(
    tmp_path: Path, model: Model, users: dict[str, dict], **config
) -> Iterator[tuple[str, Service]]:
    """Run the service in a background thread; yield (base URL, Service), then stop."""
    settings = ServiceConfig(dir=Path(tmp_path) / "service", **config)
    ready = threading.Event()
    state: dict = {}

    async def main() -> None:
        try:
            app = make_app(settings, auth=FakeHubAuth(users), model=model)
            server = http_server(app)
            sockets = bind_sockets(0, "127.0.0.1")
            server.add_sockets(sockets)
            state.update(
                app=app,
                port=sockets[0].getsockname()[1],
                stop=asyncio.Event(),
                loop=asyncio.get_running_loop(),
            )
        except BaseException as error:
            state["error"] = error
            raise
        finally:
            ready.set()
        await run_until(app, server, state["stop"])

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    ready.wait(120)
    if "error" in state:
        thread.join(10)
        raise state["error"]
    url = f"http://127.0.0.1:{state['port']}{settings.prefix}"
    try:
        yield url, service_of(state["app"])
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(60)


@contextmanager
def running_service(
    tmp_path: Path, model: Model, users: dict[str, dict], **config
) -> Iterator[str]:
    """Run the service on a free port (fake hub auth); yield its base URL, then stop."""
    with serving(tmp_path, model, users, **config) as (url, _service):
        yield url
