"""RemoteModel: the kit.Model API in hub mode, answered by the Baeum service over HTTP."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from kit import messages
from kit.checks import (
    check_number,
    check_text,
    checked_conversation,
    generation_settings,
)
from kit.engines.streaming import PieceDisplay
from kit.errors import KitError, SettingError
from kit.hub.events import stream_call
from kit.hub.http import call
from kit.model import Model
from kit.notebook import in_notebook
from kit.results import Reply, TokenProbs, Tokens


class WeightsElsewhere(KitError, AttributeError):
    """The weights live in the Baeum service, so this kernel has no .hf or .tokenizer."""


def _no_weights(attribute: str):
    def missing(self):
        raise WeightsElsewhere("remote_no_weights", attribute=attribute, url=self.url)

    return property(missing, doc=f"Not in hub mode: {attribute} lives in the service.")


class RemoteModel(Model):
    """A model the Baeum service runs for the class: the same API, no weights here."""

    hf = _no_weights("model.hf")
    tokenizer = _no_weights("model.tokenizer")

    def __init__(self, info: dict, *, url: str, adapter: str | None = None) -> None:
        # Model.__init__ is not called: it needs weights and a tokenizer.
        self.info = dict(info)
        self.url = url
        self.name = str(info.get("name", "?"))
        self.adapter_id = adapter
        self._fingerprint = str(info.get("fingerprint", ""))

    @property
    def device(self) -> str:
        """Return where the model runs: on the service's device, not in this kernel."""
        return f"service:{self.info.get('device', '?')}"

    @property
    def dtype(self) -> str:
        """Return the dtype of the service's weights, as text."""
        return str(self.info.get("dtype", "?")).removeprefix("torch.")

    @property
    def context_length(self) -> int:
        """Return how many tokens (prompt + answer) the model can attend to."""
        return int(self.info["context_length"])

    def fingerprint(self) -> str:
        """Return the id of the service's base weights (adapters check it)."""
        return self._fingerprint

    def parameter_count(self) -> int:
        """Return how many numbers (parameters) the model has."""
        return int(self.info["parameters"])

    def size_mb(self) -> float:
        """Return how much memory the weights take on the service, in megabytes."""
        import torch

        per_parameter = torch.empty((), dtype=getattr(torch, self.dtype)).element_size()
        return self.parameter_count() * per_parameter / 1e6

    def __repr__(self) -> str:
        params = float(self.info.get("parameters") or 0) / 1e6
        return (f"<kit.Model {self.name} · {params:.0f}M params · via Baeum service "
                f"{self.url} · {self.info.get('device', '?')} · {self.dtype}>")  # fmt: skip

    # --- text in, text out ----------------------------------------------------
    def chat(
        self,
        messages_or_text: str | Sequence[dict[str, str]],
        *,
        system: str | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
        stream: bool | Callable[[str], None] | None = None,
    ) -> Reply:
        """Answer a message or a conversation; temperature=0 is greedy and repeatable."""
        conversation = checked_conversation(messages_or_text, system)
        settings = generation_settings(max_new_tokens, temperature, top_p, top_k, seed)
        body = {"messages": conversation, **settings}
        return self._answer("api/chat", body, stream, strip=True)

    def generate(
        self,
        prompt: str,
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
        stream: bool = False,
    ) -> Reply:
        """Continue `prompt` as raw text (no chat template)."""
        check_text(prompt)
        settings = generation_settings(max_new_tokens, temperature, top_p, top_k, seed)
        body = {"prompt": prompt, **settings}
        return self._answer("api/generate", body, stream, strip=False)

    def chat_batch(
        self,
        conversations: Sequence[str | Sequence[dict[str, str]]],
        *,
        system: str | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
    ) -> list[Reply]:
        """Answer several conversations in one batch: much faster than one by one."""
        if isinstance(conversations, str) or not conversations:
            raise SettingError("bad_messages", problem="a list of conversations")
        settings = generation_settings(max_new_tokens, temperature, top_p, top_k, seed)
        body = {
            "conversations": [checked_conversation(c, system) for c in conversations]
        }
        answer = self._post("api/chat_batch", {**body, **settings})
        # Every reply carries the same clamp: say it once, as local mode does.
        return [_reply(one, strip=True, notice=i == 0)
                for i, one in enumerate(answer["replies"])]  # fmt: skip

    def next_token_probs(
        self, text: str, *, top: int = 10, tokens: Sequence[str] | None = None
    ) -> TokenProbs:
        """Return the `top` most likely next tokens after `text` (or the `tokens` asked)."""
        check_text(text)
        check_number("top", top, 1, 100, 10, integer=True)
        body = {"text": text, "top": int(top)}
        if tokens is not None:
            body["tokens"] = _checked_candidates(tokens)
        answer = self._post("api/next_token_probs", body)
        return TokenProbs(text=answer["text"], pieces=list(answer["pieces"]),
                          ids=list(answer["ids"]), probs=list(answer["probs"]))  # fmt: skip

    def tokenize(self, text: str) -> Tokens:
        """Cut `text` into tokens: the pieces the model reads, and their ids."""
        if not isinstance(text, str):
            raise SettingError("bad_type", name="text", kind="str", value=text)
        answer = self._post("api/tokenize", {"text": text}, adapter=False)
        return Tokens(text=answer["text"], ids=list(answer["ids"]),
                      pieces=list(answer["pieces"]))  # fmt: skip

    def decode(self, ids: Sequence[int]) -> str:
        """Turn token ids back into text (bytes of one character are joined again)."""
        try:
            numbers = [
                _whole(i) for i in (ids.tolist() if hasattr(ids, "tolist") else ids)
            ]
        except (TypeError, ValueError):
            raise SettingError("bad_type", name="ids", kind="list[int]",
                               value=ids) from None  # fmt: skip
        return self._post("api/decode", {"ids": numbers}, adapter=False)["text"]

    def chat_text(
        self,
        messages_or_text: str | Sequence[dict[str, str]],
        *,
        system: str | None = None,
    ) -> str:
        """Return the exact text the model reads for a chat: the template filled in."""
        conversation = checked_conversation(messages_or_text, system)
        return self._post("api/chat_text", {"messages": conversation}, adapter=False)[
            "text"
        ]

    def count_tokens(self, text: str) -> int:
        """Return how many tokens `text` is."""
        return len(self.tokenize(text))

    # --- internals -------------------------------------------------------------
    def _post(self, path: str, body: dict, *, adapter: bool = True) -> dict:
        if adapter and self.adapter_id is not None:
            body = {**body, "adapter": self.adapter_id}
        return call("POST", path, body, base=self.url)

    def _answer(self, path: str, body: dict, stream, *, strip: bool) -> Reply:
        """Return a reply; where local mode would stream, show its pieces as they come."""
        stream = in_notebook() if stream is None else stream
        if not stream:
            return _reply(self._post(path, body), strip=strip)
        if self.adapter_id is not None:
            body = {**body, "adapter": self.adapter_id}
        show = PieceDisplay(stream)
        try:
            answer, streamed = stream_call(path, body, show, base=self.url)
        except KitError as error:  # a service older than streaming: ask it whole
            if (
                error.key != "service_unknown_field"
                or error.fields.get("name") != "stream"
            ):
                raise
            answer, streamed = call("POST", path, body, base=self.url), False
        if not streamed:
            return _shown(_reply(answer, strip=strip), stream)
        show.end()
        reply = _reply(answer, strip=strip)
        reply.streamed = stream is True  # already on screen: not shown again as Out[n]
        return reply

    def _generate_batch(self, rows, settings, stream=False):
        raise WeightsElsewhere("remote_no_weights", attribute="_generate_batch",
                               url=self.url)  # fmt: skip


def _whole(value) -> int:
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(value)
    return int(value)


def _checked_candidates(tokens) -> list[str]:
    """Return the candidate tokens after the same checks as local mode."""
    if isinstance(tokens, str) or not tokens:
        raise SettingError("bad_type", name="tokens", kind="list[str]", value=tokens)
    for candidate in tokens:
        if not isinstance(candidate, str) or not candidate:
            raise SettingError("bad_type", name="tokens", kind="list[str]",
                               value=candidate)  # fmt: skip
    return list(tokens)


def _reply(answer: dict, *, strip: bool, notice: bool = True) -> Reply:
    """Return a Reply from the service's JSON, telling the student if quota cut it."""
    if notice and answer.get("clamped") is not None:  # as local mode prints it
        print(messages.t("quota_clamped", left=int(answer["clamped"])), file=sys.stderr)
    text = str(answer["text"])
    return Reply(text.strip() if strip else text, tokens=int(answer.get("tokens", 0)),
                 prompt_tokens=int(answer.get("prompt_tokens", 0)),
                 seconds=float(answer.get("seconds", 0.0)))  # fmt: skip


def _shown(reply: Reply, stream) -> Reply:
    """Show the whole reply where local mode would have streamed it."""
    # A service that answered whole: "streaming" prints it once when it arrives, so a
    # notebook cell looks the same as in local mode, only without the typing effect.
    stream = in_notebook() if stream is None else stream
    if callable(stream):
        stream(str(reply))
    elif stream:
        print(str(reply), flush=True)
        reply.streamed = True  # already on screen: not shown again as Out[n]
    return reply
