"""The service's HTTP plumbing: who is calling (via the hub), JSON bodies, errors as JSON."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable

from tornado import web

from kit import messages
from kit.errors import (
    KitError,
    NotAllowed,
    NotFound,
    QuotaExceeded,
    ServiceUnavailable,
    SettingError,
)

log = logging.getLogger("kit.service.server")

TOKEN_HEADER = re.compile(r"\s*(?:token|bearer)\s+(\S+)\s*$", re.IGNORECASE)
# Over-the-limit sizes: 413, so the client can say "send less" rather than "fix this".
SIZE_KEYS = {
    "prompt_too_long",
    "finetune_data_size",
    "finetune_row_too_long",
    "service_body_too_big",
    "service_too_many_conversations",
    "adapter_zip_too_big",
}
MALFORMED_KEYS = {"bad_type", "bad_messages"}  # the shape of the request, not a range
STATUS_KEYS = {404: "service_no_path", 405: "service_bad_method"}
_warned: list[bool] = []  # the missing-groups warning is logged once per process


class NotSignedIn(KitError):
    """No hub token, or one the hub does not know (HTTP 401)."""


def status_for(error: KitError) -> int:
    """Return the HTTP status of a KitError, as docs/hub-api.md lists them."""
    if isinstance(error, NotSignedIn):
        return 401
    if isinstance(error, QuotaExceeded):
        return 429
    if isinstance(error, NotAllowed):
        return 403
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, ServiceUnavailable):
        return 503
    if isinstance(error, SettingError):
        if error.key in SIZE_KEYS:
            return 413
        return 400 if error.key in MALFORMED_KEYS else 422
    return 413 if error.key in SIZE_KEYS else 400


def _jsonable(value: object) -> object:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def error_body(error: KitError, lang: str) -> dict:
    """Return the JSON of an error: key, fields, which fields are terms, both texts."""
    fields = {name: _jsonable(value) for name, value in error.fields.items()}
    terms = [k for k, v in error.fields.items() if isinstance(v, messages.Term)]
    both = {each: error.in_language(each) for each in messages.LANGUAGES}
    return {"error": error.key, "fields": fields, "terms": terms, "message": both,
            "text": both[lang]}  # fmt: skip


def preferred_language(header: str | None) -> str:
    """Return 'ko' or 'en' from an Accept-Language header (default 'en')."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = tag.strip().lower()[:2]
        if lang in messages.LANGUAGES and quality > 0:
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else "en"


class BaseHandler(web.RequestHandler):
    """A JSON endpoint: the caller is a hub user with the service's access scope."""

    user: dict
    student: str
    teacher: bool

    def initialize(self, service) -> None:
        self.service = service
        self._counted = False

    @property
    def lang(self) -> str:
        """Return the language the caller reads (Accept-Language)."""
        return preferred_language(self.request.headers.get("Accept-Language"))

    async def prepare(self) -> None:
        self.service.request_started()
        self._counted = True
        if self.service.stopping:
            raise ServiceUnavailable("service_not_ready")
        self.user = await self.authenticate()
        self.student = str(self.user["name"])
        if "groups" not in self.user and not _warned:
            _warned.append(True)  # once: the hub config, not this request, is wrong
            log.warning("hub tokens do not show groups: add read:users:groups!user to "
                        "their scopes, or no one is recognised as a teacher")  # fmt: skip
        groups = self.user.get("groups") or []
        self.teacher = self.service.config.teacher_group in groups or bool(
            self.user.get("admin") is True
        )

    def on_finish(self) -> None:
        if self._counted:
            self._counted = False
            self.service.request_finished()

    def on_connection_close(self) -> None:
        self.on_finish()  # the client left: not in flight any more

    async def authenticate(self) -> dict:
        """Return the hub's user model for the request's token, or raise 401/403."""
        match = TOKEN_HEADER.match(self.request.headers.get("Authorization", ""))
        if not match:
            raise NotSignedIn("service_no_token")
        try:
            user = await self.service.auth.user_for_token(match.group(1), sync=False)
        except web.HTTPError as problem:  # the hub is down or refuses our own token
            log.error("cannot ask the hub who is calling: %s", problem)
            raise ServiceUnavailable("service_hub_unreachable") from None
        if not user:
            raise NotSignedIn("service_bad_token")
        return self.allowed(user)

    def allowed(self, user: dict) -> dict:
        """Return `user` if their token may use this service, else raise 403."""
        from jupyterhub.services.auth import check_scopes

        scope = self.service.config.access_scope
        if not check_scopes({scope}, set(user.get("scopes") or [])):
            raise NotAllowed("service_no_scope", scope=scope)
        return user

    def require_teacher(self) -> None:
        """Raise 403 unless the caller is a teacher."""
        if not self.teacher:
            group = self.service.config.teacher_group
            raise NotAllowed("service_teacher_only", group=group)

    # --- bodies in, JSON out -------------------------------------------------------
    def body(self, allowed: Iterable[str], required: Iterable[str] = ()) -> dict:
        """Return the JSON object of the request, checked for unknown and missing fields."""
        raw = self.request.body or b""
        limit = self.service.config.max_body_size
        if len(raw) > limit:
            raise SettingError("service_body_too_big", size=len(raw), limit=limit)
        try:
            data = json.loads(raw or b"{}")
        except ValueError as problem:
            raise KitError("service_bad_json", detail=str(problem)[:120]) from None
        if not isinstance(data, dict):
            raise KitError("service_bad_body", kind=type(data).__name__)
        allowed = set(allowed)
        for name in data:
            if name not in allowed:
                raise KitError("service_unknown_field", name=name,
                               allowed=", ".join(sorted(allowed)))  # fmt: skip
        for name in required:
            if name not in data:
                raise KitError("service_missing_field", name=name)
        return data

    def reply(self, answer: object, status: int = 200) -> None:
        """Send `answer` as JSON."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(answer, ensure_ascii=False))

    # --- errors ----------------------------------------------------------------------
    def write_error(self, status_code: int, **kwargs) -> None:
        """Answer every error as the JSON of docs/hub-api.md, never an HTML page."""
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, KitError):
            status_code = status_for(error)
        elif status_code < 500 and (error is None or isinstance(error, web.HTTPError)):
            key = STATUS_KEYS.get(status_code)
            fields = {"method": self.request.method, "path": self.request.path}
            error = KitError(key, **fields) if key else None
            if key is None:  # e.g. a 400 from tornado itself
                error = KitError("service_bad_request", status=status_code)
        else:  # a bug: logged by tornado with its stack trace; the caller gets a time
            error = KitError("service_error", time=time.strftime("%Y-%m-%d %H:%M:%S"))
            status_code = 500
        self.clear_header("Content-Type")
        self.reply(error_body(error, self.lang), status_code)

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, KitError):  # a normal mistake: one line, no stack trace
            log.info("%s %s -> %s %s", self.request.method, self.request.path,
                     status_for(value), value.key)  # fmt: skip
        else:
            super().log_exception(typ, value, tb)


class MissingHandler(BaseHandler):
    """Any path the service does not have: 404 JSON (no token needed to learn that)."""

    async def prepare(self) -> None:
        raise web.HTTPError(404)
