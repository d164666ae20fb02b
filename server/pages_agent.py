"""The agent desktop (GET /agent) with what it reads besides the websocket: the agent's own
figures today, their callbacks, and a look-up of one number before dialing it by hand;
and the supervisor wallboard (GET /wallboard)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from crm.customers import lookup_phone, names_of
from crm.phones import normalize_e164
from dialer.live.desk import PAUSE_REASONS
from dialer.store import stats
from server.auth import Role, allow, current_user, page_user
from server.errors import ApiError
from server.keys import POOL
from server.ws_wallboard import SHIFT_TZ

routes = web.RouteTableDef()

_CAMPAIGNS = """
SELECT id, name, status, pacing_strategy FROM campaigns
WHERE status IN ('running', 'paused') ORDER BY status DESC, id
"""
AGENT_SHORTCUTS = {"ready": "F2", "away": "F4", "hangup": "F8", "order": "Ctrl+Enter"}


async def _campaigns(request: web.Request) -> list[dict[str, Any]]:
    async with request.app[POOL].acquire() as conn:
        return [dict(r) for r in await conn.fetch(_CAMPAIGNS)]


@routes.get("/agent")
@allow(Role.AGENT, Role.SUPERVISOR)
@aiohttp_jinja2.template("agent.html")
async def agent_desktop(request: web.Request) -> dict[str, Any]:
    user = page_user(request, Role.AGENT, Role.SUPERVISOR)
    return {"campaigns": await _campaigns(request), "pause_reasons": PAUSE_REASONS[:-1],
            "agent_name": user.username, "keys": AGENT_SHORTCUTS}  # fmt: skip


@routes.get("/api/v1/agent/today")
@allow(Role.AGENT, Role.SUPERVISOR)
async def my_day(request: web.Request) -> web.Response:
    """The caller's own figures since the start of the contact centre's day."""
    user = current_user(request)
    async with request.app[POOL].acquire() as conn:
        since = await stats.day_start(conn, tz=SHIFT_TZ)
        found = (await stats.agents_today(conn, since=since)).get(user.id)
    return web.json_response({
        "calls": found.calls if found else 0, "talk_s": round(found.talk_s, 1) if found else 0.0,
        "orders": found.orders if found else 0, "since": since.isoformat(),
    })  # fmt: skip


@routes.get("/api/v1/agent/callbacks")
@allow(Role.AGENT, Role.SUPERVISOR)
async def my_callbacks(request: web.Request) -> web.Response:
    """The caller's own callbacks still to make, soonest first."""
    user = current_user(request)
    async with request.app[POOL].acquire() as conn:
        found = await stats.agent_callbacks(conn, agent_id=user.id)
        names = await names_of(conn, customer_ids=[c.customer_id for c in found])
    return web.json_response({"callbacks": [
        {"lead_id": c.lead_id, "campaign_id": c.campaign_id, "campaign": c.campaign,
         "campaign_status": c.campaign_status, "customer": names.get(c.customer_id, ""),
         "phone": c.phone_e164, "callback_at": c.callback_at.isoformat()}
        for c in found
    ]})  # fmt: skip


@routes.get("/api/v1/agent/lookup")
@allow(Role.AGENT, Role.SUPERVISOR)
async def lookup(request: web.Request) -> web.Response:
    """One number, before dialing it by hand: whose it is and whether it may be called."""
    raw = (request.query.get("phone") or "").strip()
    e164 = normalize_e164(raw) if raw else None
    if e164 is None:
        raise ApiError(422, "invalid_phone", f"not a phone number: {raw!r}", field="phone")
    async with request.app[POOL].acquire() as conn:
        return web.json_response(await lookup_phone(conn, phone_e164=e164))


@routes.get("/wallboard")
@allow(Role.SUPERVISOR)
@aiohttp_jinja2.template("wallboard.html")
async def wallboard(request: web.Request) -> dict[str, Any]:
    page_user(request, Role.SUPERVISOR)
    return {}
