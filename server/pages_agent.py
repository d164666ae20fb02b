"""The agent desktop (GET /agent) and the supervisor wallboard (GET /wallboard)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from dialer.live.desk import PAUSE_REASONS
from server.auth import Role, allow, page_user
from server.keys import POOL

routes = web.RouteTableDef()

_CAMPAIGNS = """
SELECT id, name, status, pacing_strategy FROM campaigns
WHERE status IN ('running', 'paused') ORDER BY status DESC, id
"""


async def _campaigns(request: web.Request) -> list[dict[str, Any]]:
    async with request.app[POOL].acquire() as conn:
        return [dict(r) for r in await conn.fetch(_CAMPAIGNS)]


@routes.get("/agent")
@allow(Role.AGENT, Role.SUPERVISOR)
@aiohttp_jinja2.template("agent.html")
async def agent_desktop(request: web.Request) -> dict[str, Any]:
    user = page_user(request, Role.AGENT, Role.SUPERVISOR)
    return {"campaigns": await _campaigns(request), "pause_reasons": PAUSE_REASONS[:-1],
            "agent_name": user.username}


@routes.get("/wallboard")
@allow(Role.SUPERVISOR)
@aiohttp_jinja2.template("wallboard.html")
async def wallboard(request: web.Request) -> dict[str, Any]:
    page_user(request, Role.SUPERVISOR)
    return {}
