"""Streamed replies in the kernel: read the service's server-sent events as they come."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator

from kit import messages
from kit.errors import KitError, ServiceUnavailable
from kit.hub.http import client, error_from, service_url


def events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Yield (event name, data) of each server-sent event in `lines` (comments skipped)."""
    name, data = "message", []
    for line in lines:
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
    if data:
        yield name, "\n".join(data)


def stream_call(
    path: str, body: dict, show: Callable[[str], None], *, base: str | None = None
) -> tuple[dict, bool]:
    """POST `body` with "stream": true, show each piece; return (reply JSON, streamed).

    streamed is False when the service answered whole (plain JSON) instead.
    """
    import httpx

    base = base or service_url()
    if base is None:
        raise KitError("remote_not_hub")
    hub_token = os.environ.get("JUPYTERHUB_API_TOKEN", "").strip()
    if not hub_token:
        raise KitError("remote_no_token", url=base)
    session, url = client(base, hub_token), base + path
    headers = {"Accept-Language": messages.language(), "Accept": "text/event-stream"}
    try:
        with session.stream("POST", path, json={**body, "stream": True},
                            headers=headers) as response:  # fmt: skip
            if not response.is_success:
                response.read()
                raise error_from(response, url)
            if "text/event-stream" not in response.headers.get("content-type", ""):
                return _json(response.read(), url, response.status_code), False
            for name, data in events(response.iter_lines()):
                found = _json(data, url, response.status_code)
                if name == "token":
                    show(str(found["text"]))
                elif name == "done":
                    return found, True
                elif name == "error":  # as the same call unstreamed would fail
                    status = int(found.pop("status", 500))
                    raise error_from(httpx.Response(status, json=found), url)
    except httpx.TimeoutException as slow:
        if isinstance(slow, httpx.ConnectTimeout):
            raise ServiceUnavailable("remote_unreachable", url=base,
                                     problem="connect timeout") from None  # fmt: skip
        seconds = f"{session.timeout.read:g}"
        raise ServiceUnavailable("remote_timeout", url=url, seconds=seconds) from None
    except httpx.TransportError as broken:
        raise ServiceUnavailable("remote_unreachable", url=base,
                                 problem=type(broken).__name__) from None  # fmt: skip
    raise ServiceUnavailable("remote_unreachable", url=base, problem="stream cut off")


def _json(data: str | bytes, url: str, status: int) -> dict:
    """Return the JSON object in `data`, or raise remote_http (not the service's)."""
    try:
        found = json.loads(data)
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise KitError("remote_http", url=url, status=status)
    return found
