"""VllmServer: a vLLM OpenAI-compatible server, as the kit calls it (HTTP, token ids)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx

from kit.errors import ServiceUnavailable

log = logging.getLogger(__name__)
CONNECT_SECONDS = 5.0
READ_SECONDS = 600.0  # a long generation on a busy CPU server


class VllmServer:
    """One running vLLM server: its URL and the name it serves the base model under."""

    def __init__(self, url: str, *, model: str | None = None) -> None:
        self.url = url.rstrip("/")
        if self.url.endswith("/v1"):
            self.url = self.url[: -len("/v1")]
        self.client = httpx.Client(
            timeout=httpx.Timeout(READ_SECONDS, connect=CONNECT_SECONDS)
        )
        self._model = model
        self._context: int | None = None

    # --- what the server serves ------------------------------------------------------
    def served(self) -> dict:
        """Return the base model's entry in GET /v1/models (the one without a parent)."""
        listed = self.call("GET", "/v1/models")["data"]
        bases = [m for m in listed if not m.get("parent")]
        for entry in bases:
            if self._model in (None, entry["id"]):
                return entry
        raise ServiceUnavailable("engine_wrong_model", url=self.url,
                                 model=self._model, served=[m["id"] for m in bases])  # fmt: skip

    @property
    def model(self) -> str:
        """Return the name of the base model on the server."""
        if self._model is None:
            self._model = self.served()["id"]
        return self._model

    @property
    def context(self) -> int:
        """Return the server's max_model_len: prompt + answer."""
        if self._context is None:
            self._context = int(self.served()["max_model_len"])
        return self._context

    def healthy(self) -> bool:
        """Return True when GET /health answers 200."""
        try:
            return self.client.get(self.url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def load_adapter(self, name: str, path: str, *, exists_ok: bool = False) -> None:
        """Register a peft adapter folder under `name` (runtime LoRA updating)."""
        try:
            self.call("POST", "/v1/load_lora_adapter", json={"lora_name": name,
                                                              "lora_path": path})  # fmt: skip
        except EngineFailed as error:
            if not (exists_ok and "already" in str(error.fields.get("problem"))):
                raise

    def unload_adapter(self, name: str) -> None:
        """Forget the adapter `name` (frees its slot; a missing one is no error)."""
        try:
            self.call("POST", "/v1/unload_lora_adapter", json={"lora_name": name})
        except AdapterMissing:
            pass

    # --- requests ----------------------------------------------------------------------
    def call(self, method: str, path: str, **kwargs) -> dict:
        """Send one request and return its JSON; an unreachable server is a 503."""
        try:
            answer = self.client.request(method, self.url + path, **kwargs)
        except httpx.HTTPError as error:
            raise self._down(error) from None
        _raise_for(answer)
        try:
            return answer.json()
        except ValueError:  # load/unload answer plain text ("Success: ...")
            return {}

    def stream(self, body: dict) -> Iterator[dict]:
        """POST /v1/completions with stream=True; yield each server-sent chunk."""
        try:
            with self.client.stream("POST", self.url + "/v1/completions",
                                    json={**body, "stream": True}) as answer:  # fmt: skip
                if answer.status_code != 200:
                    answer.read()
                    _raise_for(answer)
                for line in answer.iter_lines():
                    if not line.startswith("data: "):
                        continue
                    data = line[len("data: ") :]
                    if data == "[DONE]":
                        return
                    chunk = json.loads(data)
                    if "error" in chunk:  # an error after the stream began
                        raise EngineFailed("engine_failed", url=self.url,
                                           problem=_problem(chunk))  # fmt: skip
                    yield chunk
        except httpx.HTTPError as error:
            raise self._down(error) from None

    def _down(self, error: Exception) -> ServiceUnavailable:
        log.warning("vLLM at %s unreachable: %r", self.url, error)
        return ServiceUnavailable("engine_unavailable", url=self.url)


class AdapterMissing(ServiceUnavailable):
    """The server does not know the LoRA adapter asked for (it restarted, say)."""


class EngineFailed(ServiceUnavailable):
    """The server refused or failed a request the kit made (a bug, not the student's)."""


def _problem(data: object) -> str:
    if isinstance(data, dict):
        inner = data.get("error", data)
        if isinstance(inner, dict):
            return str(inner.get("message", inner))[:300]
        return str(data.get("message", inner))[:300]
    return str(data)[:300]


def _raise_for(answer: httpx.Response) -> None:
    if answer.status_code < 400:
        return
    try:
        problem = _problem(answer.json())
    except ValueError:
        problem = answer.text[:300]
    if answer.status_code == 404 or "not found" in problem.lower():
        raise AdapterMissing("engine_adapter_missing", problem=problem)
    if answer.status_code >= 500:
        raise ServiceUnavailable("engine_unavailable", url=str(answer.url))
    raise EngineFailed("engine_failed", url=str(answer.url), problem=problem)
