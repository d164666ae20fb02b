"""Server-rendered pages shared by every role: the home page and the layout context."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from server.auth import Role, User, allow, page_user
from server.i18n import N_, current_language
from server.keys import USER
from server.labels import label, labels_json
from server.pages_i18n import page_context

routes = web.RouteTableDef()

# (title, path, roles that see it); admin sees everything. Titles are translated on render.
NAV: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    (N_("Agent desktop"), "/agent", (Role.AGENT, Role.SUPERVISOR)),
    (N_("Wallboard"), "/wallboard", (Role.SUPERVISOR,)),
    (N_("Order line"), "/inbound", (Role.SUPERVISOR,)),
    (N_("Segments"), "/segments", (Role.MARKETER,)),
    (N_("Campaigns"), "/campaigns", (Role.MARKETER, Role.SUPERVISOR)),
    (N_("Customers"), "/customers", (Role.MARKETER, Role.SUPERVISOR)),
    (N_("Logistics"), "/logistics", (Role.LOGISTICS, Role.SUPERVISOR)),
    (N_("API docs"), "/api/docs", tuple(Role)),
)


def nav_for(user: User | None) -> list[tuple[str, str]]:
    if user is None:
        return []
    return [
        (title, path) for title, path, roles in NAV if user.role is Role.ADMIN or user.role in roles
    ]


async def context(request: web.Request) -> dict[str, Any]:
    user = request.get(USER)
    return {
        "user": user, "nav": nav_for(user if isinstance(user, User) else None),
        "current_path": request.path, "current_path_qs": request.path_qs,
        "label": label, "labels_json": labels_json, **page_context(current_language()),
    }  # fmt: skip


@routes.get("/")
@allow("agent", "supervisor", "marketer", "logistics")
@aiohttp_jinja2.template("home.html")
async def home(request: web.Request) -> dict[str, Any]:
    page_user(request)
    return {}
