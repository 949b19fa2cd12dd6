"""The service's endpoints (docs/hub-api.md): the model and fine-tunes; all routes."""

from __future__ import annotations

from kit.checks import check_text, checked_conversation, generation_settings
from kit.errors import SettingError
from kit.results import Reply
from kit.service.adapters import (
    AdapterHandler,
    AdaptersHandler,
    CopyHandler,
    FilesHandler,
    ShareHandler,
    UploadHandler,
)
from kit.service.event_stream import StreamingHandler
from kit.service.http import BaseHandler
from kit.service.quota import (
    ClassQuotaHandler,
    LimitsHandler,
    QuotaHandler,
    UsageHandler,
)
from kit.service.worker_handlers import WORKER_ROUTES

SETTINGS = ("max_new_tokens", "temperature", "top_p", "top_k", "seed")
FINETUNE_FIELDS = ("rows", "lang", "name", "dataset", "settings")


def settings_from(data: dict, max_new_tokens: int) -> dict:
    """Return the generation settings of a body, checked as kit.Model checks them."""
    return generation_settings(data.get("max_new_tokens", max_new_tokens),
                    data.get("temperature", 0.0), data.get("top_p", 1.0),
                    data.get("top_k", 0), data.get("seed"))  # fmt: skip


def reply_json(reply: Reply, clamped: int | None, *, strip: bool) -> dict:
    """Return a reply as docs/hub-api.md lists it."""
    text = str(reply).strip() if strip else str(reply)
    return {"text": text, "tokens": reply.tokens, "prompt_tokens": reply.prompt_tokens,
            "seconds": reply.seconds, "clamped": clamped}  # fmt: skip


def chat_ids(model, messages, system=None):
    """Return the prompt ids of a conversation, the chat template applied."""
    if system is not None and not isinstance(system, str):
        raise SettingError("bad_type", name="system", kind="str", value=system)
    return model._chat_ids(checked_conversation(messages, system))[0]


def prompt_ids(model, prompt):
    """Return the ids of a raw-text prompt (no template), as Model.generate reads it."""
    check_text(prompt)
    return model.tokenizer(prompt, return_tensors="pt").input_ids[0]


class InfoHandler(BaseHandler):
    """GET api/info: which model the service serves."""

    async def get(self) -> None:
        self.reply(self.service.info())


class ChatHandler(StreamingHandler):
    """POST api/chat: answer one conversation (streamed: "stream": true)."""

    async def post(self) -> None:
        data = self.body({"messages", "system", "adapter", *SETTINGS}, ["messages"])
        settings = settings_from(data, 256)
        adapter = await self.service.open_adapter(
            self.student, data.get("adapter"), self.teacher
        )
        ids = await self.service.in_tokens(
            chat_ids, self.service.model, data["messages"], data.get("system")
        )
        replies, clamped = await self.answer([ids], settings, adapter, strip=True)
        self.reply(reply_json(replies[0], clamped, strip=True))


class ChatBatchHandler(BaseHandler):
    """POST api/chat_batch: answer several conversations."""

    async def post(self) -> None:
        fields = {"conversations", "system", "adapter", *SETTINGS}
        data = self.body(fields, ["conversations"])
        conversations = data["conversations"]
        if not isinstance(conversations, list) or not conversations:
            raise SettingError("bad_messages", problem="a list of conversations")
        limit = self.service.config.max_conversations
        if len(conversations) > limit:
            raise SettingError("service_too_many_conversations",
                               count=len(conversations), limit=limit)  # fmt: skip
        settings = settings_from(data, 256)
        adapter = await self.service.open_adapter(
            self.student, data.get("adapter"), self.teacher
        )
        model, system = self.service.model, data.get("system")
        rows = await self.service.in_tokens(
            lambda: [chat_ids(model, each, system) for each in conversations]
        )
        replies, clamped = await self.service.generate(
            self.student, rows, settings, adapter
        )
        answers = [reply_json(r, clamped, strip=True) for r in replies]
        self.reply({"replies": answers})


class GenerateHandler(StreamingHandler):
    """POST api/generate: continue a raw-text prompt (streamed: "stream": true)."""

    async def post(self) -> None:
        data = self.body({"prompt", "adapter", *SETTINGS}, ["prompt"])
        settings = settings_from(data, 64)
        adapter = await self.service.open_adapter(
            self.student, data.get("adapter"), self.teacher
        )
        ids = await self.service.in_tokens(
            prompt_ids, self.service.model, data["prompt"]
        )
        replies, clamped = await self.answer([ids], settings, adapter)
        self.reply(reply_json(replies[0], clamped, strip=False))


class NextTokenHandler(BaseHandler):
    """POST api/next_token_probs: the likely next tokens."""

    async def post(self) -> None:
        data = self.body({"text", "top", "tokens", "adapter"}, ["text"])
        model = await self.service.open_adapter(
            self.student, data.get("adapter"), self.teacher
        )
        model = model or self.service.model
        probs = await self.service.in_tokens(
            model.next_token_probs, data["text"], top=data.get("top", 10),
            tokens=data.get("tokens"),
        )  # fmt: skip
        self.reply({"text": probs.text, "pieces": probs.pieces, "ids": probs.ids,
                    "probs": probs.probs})  # fmt: skip


class TokenizeHandler(BaseHandler):
    """POST api/tokenize: text to tokens."""

    async def post(self) -> None:
        data = self.body({"text"}, ["text"])
        tokens = await self.service.in_tokens(self.service.model.tokenize, data["text"])
        self.reply({"text": tokens.text, "ids": tokens.ids, "pieces": tokens.pieces})


class DecodeHandler(BaseHandler):
    """POST api/decode: token ids to text."""

    async def post(self) -> None:
        ids = self.body({"ids"}, ["ids"])["ids"]
        size = len(self.service.model.tokenizer)
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise SettingError("bad_type", name="ids", kind="list[int]", value=ids)
        for i in ids:
            if not 0 <= i < size:
                raise SettingError("bad_number", name="ids", low=0, high=size - 1,
                                   value=i, example=42)  # fmt: skip
        text = await self.service.in_tokens(self.service.model.decode, ids)
        self.reply({"text": text})


class ChatTextHandler(BaseHandler):
    """POST api/chat_text: the text the model reads for a chat."""

    async def post(self) -> None:
        data = self.body({"messages", "system"}, ["messages"])
        model = self.service.model
        ids = await self.service.in_tokens(
            chat_ids, model, data["messages"], data.get("system")
        )
        text = await self.service.in_tokens(model.decode, ids.tolist())
        self.reply({"text": text})


class FinetuneHandler(BaseHandler):
    """POST api/finetune: queue a fine-tune job (202)."""

    async def post(self) -> None:
        data = self.body(FINETUNE_FIELDS, ["rows"])
        rows, settings = data["rows"], data.get("settings", {})
        if not isinstance(rows, list):
            raise SettingError(
                "bad_type", name="rows", kind="list", value=str(rows)[:80]
            )
        if not isinstance(settings, dict):
            raise SettingError("bad_type", name="settings", kind="dict", value=settings)
        for name in ("lang", "name", "dataset"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise SettingError("bad_type", name=name, kind="str", value=data[name])
        job = await self.service.in_io(
            self.service.submit_finetune, self.student, rows, settings,
            name=data.get("name"), lang=data.get("lang"),
            dataset=data.get("dataset"),
        )  # fmt: skip
        self.reply({"job": job}, 202)


class JobHandler(BaseHandler):
    """GET api/jobs/<id>: a job's state and losses."""

    async def get(self, job_id: str) -> None:
        jobs = self.service.jobs
        job = await self.service.in_io(
            jobs.get, job_id, self.student, teacher=self.teacher
        )
        self.reply({"job": job})


ROUTES = [
    ("api/info", InfoHandler),
    ("api/chat", ChatHandler),
    ("api/chat_batch", ChatBatchHandler),
    ("api/generate", GenerateHandler),
    ("api/next_token_probs", NextTokenHandler),
    ("api/tokenize", TokenizeHandler),
    ("api/decode", DecodeHandler),
    ("api/chat_text", ChatTextHandler),
    ("api/quota", QuotaHandler),
    ("api/quota/class", ClassQuotaHandler),
    ("api/quota/limits", LimitsHandler),
    ("api/finetune", FinetuneHandler),
    ("api/jobs/([^/]+)", JobHandler),
    *WORKER_ROUTES,  # remote fine-tune workers (kit/service/worker_handlers.py)
    ("api/adapters", AdaptersHandler),
    ("api/adapters/([^/]+)/([^/]+)", AdapterHandler),
    ("api/adapters/([^/]+)/([^/]+)/copy", CopyHandler),
    ("api/adapters/([^/]+)/([^/]+)/share", ShareHandler),
    ("api/adapters/([^/]+)/([^/]+)/files", FilesHandler),
    ("api/adapters/upload", UploadHandler),
    ("usage", UsageHandler),
]
