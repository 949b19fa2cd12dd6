"""The kernel's HTTP client of the Baeum service: one connection pool, friendly errors."""

from __future__ import annotations

import os
import threading

from kit import messages
from kit.errors import (
    KitError,
    NotAllowed,
    NotFound,
    QuotaExceeded,
    ServiceUnavailable,
    SettingError,
)

CONNECT_SECONDS = 5.0
READ_SECONDS = (
    600.0  # a long batch on a busy CPU service; KIT_SERVICE_TIMEOUT changes it
)
ERROR_CLASSES: dict[int, type[KitError]] = {
    400: SettingError,
    403: NotAllowed,
    404: NotFound,
    413: SettingError,
    422: SettingError,
    429: QuotaExceeded,
    503: ServiceUnavailable,
}
GATEWAY = (502, 503, 504)  # the hub's proxy answers these when the service is down

_clients: dict[tuple[str, str], object] = {}
_lock = threading.Lock()


def service_url() -> str | None:
    """Return the Baeum service's base URL (ending in /) in hub mode, else None."""
    url = os.environ.get("KIT_SERVICE_URL", "").strip()
    if not url:
        return None
    return url if url.endswith("/") else url + "/"


def read_timeout() -> float:
    """Return how long to wait for an answer: KIT_SERVICE_TIMEOUT seconds, else 600."""
    try:
        seconds = float(os.environ.get("KIT_SERVICE_TIMEOUT", "") or READ_SECONDS)
    except ValueError:
        return READ_SECONDS
    return seconds if seconds > 0 else READ_SECONDS


def _token() -> str:
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "").strip()
    if not token:
        raise KitError("remote_no_token", url=service_url() or "")
    return token


def client(base: str, token: str, transport=None):
    """Return this process's keep-alive httpx.Client for `base` (made once, shared)."""
    import httpx

    with _lock:
        found = _clients.get((base, token))
        if found is None or found.is_closed:
            timeout = httpx.Timeout(read_timeout(), connect=CONNECT_SECONDS)
            found = httpx.Client(
                base_url=base,
                headers={"Authorization": f"token {token}"},
                timeout=timeout,
                transport=transport or httpx.HTTPTransport(retries=1),
                trust_env=False,  # a proxy in the kernel's env must not see the token
            )
            _clients[(base, token)] = found
        return found


def close_all() -> None:
    """Close every pooled connection (tests; a kernel never needs to)."""
    with _lock:
        for each in _clients.values():
            each.close()
        _clients.clear()


def call(method: str, path: str, body: dict | None = None, *, base: str | None = None):
    """Send one request to the service and return its JSON, or raise a KitError."""
    response, url = send(method, path, base=base, json=body)
    try:
        return response.json()
    except ValueError:
        raise KitError("remote_http", url=url, status=response.status_code) from None


def send(method: str, path: str, *, base: str | None = None, **request):
    """Send one request (httpx keywords) and return (response, url), or raise."""
    import httpx

    base = base or service_url()
    if base is None:
        raise KitError("remote_not_hub")
    session = client(base, _token())
    url = base + path
    try:
        # The service words `message` in the student's language (for unknown keys).
        language = {
            "Accept-Language": messages.language(),
            **request.pop("headers", {}),
        }
        response = session.request(method, path, headers=language, **request)
    except httpx.TimeoutException as slow:
        if isinstance(slow, httpx.ConnectTimeout):
            raise ServiceUnavailable("remote_unreachable", url=base,
                                     problem="connect timeout") from None  # fmt: skip
        seconds = session.timeout.read
        raise ServiceUnavailable(
            "remote_timeout", url=url, seconds=f"{seconds:g}"
        ) from None
    except httpx.TransportError as broken:
        problem = type(broken).__name__
        raise ServiceUnavailable(
            "remote_unreachable", url=base, problem=problem
        ) from None
    if response.is_success:
        return response, url
    raise error_from(response, url)


def error_from(response, url: str) -> KitError:
    """Rebuild the service's error (JSON of docs/hub-api.md) as the same KitError."""
    status = response.status_code
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("error"), str):
        if status in GATEWAY:  # HTML from the hub's proxy: the service is not there
            return ServiceUnavailable("remote_unreachable", url=url,
                                      problem=f"HTTP {status}")  # fmt: skip
        if status == 401:
            return KitError("remote_bad_token", url=url)
        if status == 403:
            return NotAllowed("remote_forbidden", url=url)
        return KitError("remote_http", url=url, status=status)
    if status == 401:  # whatever the service calls it: the student needs this advice
        return KitError("remote_bad_token", url=url)
    kind = ERROR_CLASSES.get(status, KitError)
    return rebuild(kind, data.get("error"), data.get("fields"), data.get("terms"),
                   data.get("message"))  # fmt: skip


def rebuild(kind, key, fields, terms=None, message=None) -> KitError:
    """Return kind(key, **fields), with Terms restored; the service's words if unknown."""
    fields = dict(fields) if isinstance(fields, dict) else {}
    for name in terms or ():
        if isinstance(fields.get(name), str):
            fields[name] = messages.Term(fields[name])
    if key in messages.CATALOGUE:
        try:
            error = kind(key, **fields)
            for lang in messages.LANGUAGES:  # a field missing in one language
                error.in_language(lang)
            return error
        except (KeyError, IndexError, ValueError):
            pass  # a newer service's message with fields this kit does not know
    words = message if isinstance(message, dict) else {}
    text = words.get(messages.language()) or words.get("en") or str(key)
    return kind("remote_message", message=text)
