"""Server-rendered pages shared by every role: the home page and the layout context."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from server.auth import Role, User, allow, page_user
from server.keys import USER

routes = web.RouteTableDef()

# (title, path, roles that see it); admin sees everything.
NAV: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("Agent desktop", "/agent", (Role.AGENT, Role.SUPERVISOR)),
    ("Wallboard", "/wallboard", (Role.SUPERVISOR,)),
    ("주문 전화", "/inbound", (Role.SUPERVISOR,)),
    ("Segments", "/segments", (Role.MARKETER,)),
    ("Campaigns", "/campaigns", (Role.MARKETER, Role.SUPERVISOR)),
    ("Customers", "/customers", (Role.MARKETER, Role.SUPERVISOR)),
    ("Logistics", "/logistics", (Role.LOGISTICS, Role.SUPERVISOR)),
    ("API docs", "/api/docs", tuple(Role)),
)


def nav_for(user: User | None) -> list[tuple[str, str]]:
    if user is None:
        return []
    return [
        (title, path) for title, path, roles in NAV if user.role is Role.ADMIN or user.role in roles
    ]


async def context(request: web.Request) -> dict[str, Any]:
    user = request.get(USER)
    return {"user": user, "nav": nav_for(user)}


@routes.get("/")
@allow("agent", "supervisor", "marketer", "logistics")
@aiohttp_jinja2.template("home.html")
async def home(request: web.Request) -> dict[str, Any]:
    page_user(request)
    return {}
