"""The service's quota endpoints and the teacher's usage page (browser login too)."""

from __future__ import annotations

from jupyterhub.services.auth import (
    HubOAuth,
    HubOAuthCallbackHandler,
    HubOAuthenticated,
)
from tornado import web

from kit.errors import SettingError
from kit.ledger.amounts import KINDS
from kit.service.http import BaseHandler, log
from kit.service.usage_page import class_usage, limit_json, render_usage


def policy_json(policy) -> dict:
    """Return a policy as JSON: class limits, overrides per student (null: unlimited)."""
    return {
        "class": {k: limit_json(v) for k, v in policy.limits.items()},
        "students": {
            name: {k: limit_json(v) for k, v in table.items()}
            for name, table in policy.students.items()
        },
        "timezone": policy.zone_name,
    }


class QuotaHandler(BaseHandler):
    """GET api/quota: the caller's quota today."""

    async def get(self) -> None:
        status = await self.service.in_io(self.service.quota(self.student).status)
        rows = [[k, used, limit, left] for k, used, limit, left in status.rows]
        self.reply({"student": status.student, "day": status.day,
                    "reset": status.reset, "exempt": status.exempt, "rows": rows})  # fmt: skip


class ClassQuotaHandler(BaseHandler):
    """GET api/quota/class: every student's usage (teachers)."""

    async def get(self) -> None:
        self.require_teacher()
        day = self.get_query_argument("day", None)
        self.reply(await self.service.in_io(class_usage, self.service, day))


class LimitsHandler(BaseHandler):
    """PUT api/quota/limits: change limits, no restart (teachers)."""

    async def put(self) -> None:
        self.require_teacher()
        data = self.body({"student", "limits"}, ["limits"])
        student, limits = data.get("student"), data["limits"]
        if student is not None and (not isinstance(student, str) or not student):
            raise SettingError("bad_type", name="student", kind="str", value=student)
        if not isinstance(limits, dict) or not limits:
            raise SettingError("bad_type", name="limits", kind="{kind: number}",
                               value=limits)  # fmt: skip
        for kind, value in limits.items():
            if kind not in KINDS:
                raise SettingError("quota_cli_bad_kind", kind=kind,
                                   kinds=", ".join(KINDS))  # fmt: skip
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or not (0 <= value < float("inf") or value == -1):
                raise SettingError("quota_cli_bad_value", kind=kind, value=value)
        policy = await self.service.in_io(self.service.set_limits, student, limits)
        log.info("%s set limits %s for %s", self.student, limits, student or "class")
        self.reply(policy_json(policy))


class UsageHandler(HubOAuthenticated, BaseHandler):
    """The teacher page: a token, or the hub's OAuth cookie after a browser login."""

    def initialize(self, service) -> None:
        super().initialize(service)
        self.hub_auth = service.auth  # HubOAuthenticated's login redirect uses it

    async def authenticate(self) -> dict:
        browser = not self.request.headers.get("Authorization")
        if not browser or not isinstance(self.service.auth, HubOAuth):
            return await super().authenticate()
        user = await self.service.auth.get_user(self, sync=False)  # the OAuth cookie
        if not user:
            self.redirect(self.get_login_url())  # log in at the hub, then come back
            raise web.Finish()
        return self.allowed(user)

    async def get(self) -> None:
        self.require_teacher()
        day = self.get_query_argument("day", None)
        usage = await self.service.in_io(class_usage, self.service, day)
        page = await self.service.in_io(render_usage, usage, self.lang)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(page)


class OAuthCallback(HubOAuthCallbackHandler):
    """Finish the hub's browser login, with this service's HubOAuth."""

    def initialize(self, service) -> None:
        self.hub_auth = service.auth
