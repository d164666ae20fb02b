"""The inbound pages: the supervisor's order-line board (queue tiles, schedule with its
CSV import, staffing, callbacks, queues and skills) and the ARS page (menu and its calls).
They read and write through /api/v1/inbound (same roles as the API)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from server.auth import Role, allow, page_user

routes = web.RouteTableDef()


@routes.get("/inbound")
@allow("supervisor")
@aiohttp_jinja2.template("inbound.html")
async def inbound_board(request: web.Request) -> dict[str, Any]:
    page_user(request, Role.SUPERVISOR)
    return {}


@routes.get("/inbound/ars")
@allow("supervisor")
@aiohttp_jinja2.template("inbound_ars.html")
async def ars_page(request: web.Request) -> dict[str, Any]:
    page_user(request, Role.SUPERVISOR)
    return {}
