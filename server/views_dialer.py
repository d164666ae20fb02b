"""Live dialer routes: the agents' websocket, the wallboard's JSON, journeys, an echo."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any, Literal

from aiohttp import WSMsgType, web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from dialer.errors import DialerError
from dialer.live.desk import PAUSE_REASONS, LiveDesk
from dialer.live.outcomes import DispositionEntry
from server.auth import Role, allow, current_user
from server.errors import ApiError, validation_error
from server.keys import LIVE, POOL
from server.metrics import observe_journey
from server.ws_wallboard import journeys_json, wallboard_json

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
WS_HEARTBEAT_S = 15.0


class _Msg(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ReadyMsg(_Msg):
    type: Literal["ready"]
    campaign_id: int = Field(gt=0)
    preview: bool = False


class PauseMsg(_Msg):
    type: Literal["pause"]
    reason: str = Field(pattern="^(" + "|".join(PAUSE_REASONS) + ")$")


class CallMsg(_Msg):
    type: Literal["ack", "hangup"]
    attempt_id: int


class DispositionMsg(_Msg):
    type: Literal["disposition"]
    attempt_id: int
    code: str = Field(min_length=1, max_length=40)
    callback_at: AwareDatetime | None = None
    callback_mine: bool = False
    note: str = Field(default="", max_length=2000)
    then_pause: str | None = Field(default=None, pattern="^(" + "|".join(PAUSE_REASONS) + ")$")


class OrderMsg(_Msg):
    type: Literal["order"]
    attempt_id: int
    order_id: int
    submit_ms: float = Field(ge=0)


class PreviewMsg(_Msg):
    type: Literal["preview_next", "preview_dial", "preview_skip"]
    campaign_id: int | None = None


async def _handle(request: web.Request, agent_id: int, raw: Any) -> None:
    services = request.app[LIVE]
    desk, runtime = services.desk, services.runtime
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "ready":
        m = ReadyMsg.model_validate(raw)
        desk.ready(agent_id, campaign_id=m.campaign_id, preview=m.preview)
    elif kind == "pause":
        desk.pause(agent_id, reason=PauseMsg.model_validate(raw).reason)
    elif kind == "logout":
        desk.logout(agent_id)
    elif kind == "ack":
        c = CallMsg.model_validate(raw)
        desk.ack(agent_id, c.attempt_id)
    elif kind == "hangup":
        desk.hangup(agent_id, CallMsg.model_validate(raw).attempt_id)
    elif kind == "disposition":
        d = DispositionMsg.model_validate(raw)
        entry = DispositionEntry(code=d.code, agent_id=agent_id, callback_at=d.callback_at,
                                 callback_mine=d.callback_mine, note=d.note)
        if runtime is None:
            raise DialerError("the dialer is not running in this server")
        runtime.dispose(entry, attempt_id=d.attempt_id, pause_reason=d.then_pause)
    elif kind == "order":
        o = OrderMsg.model_validate(raw)
        await _order(request, desk, agent_id, o)
    elif kind in ("preview_next", "preview_dial", "preview_skip"):
        if runtime is None:
            raise DialerError("the dialer is not running in this server")
        p = PreviewMsg.model_validate(raw)
        agent = desk.agent(agent_id)
        if p.type == "preview_next":
            found = await runtime.preview_next(agent_id, p.campaign_id or agent.campaign_id or 0)
            if found is None:
                services.hub.send(agent_id, {"type": "notice", "text": "no lead to call now"})
        elif p.type == "preview_dial":
            runtime.preview_dial(agent_id)
        else:
            await runtime.preview_skip(agent_id)
    elif kind == "state":
        desk.push_state(desk.agent(agent_id))
    elif kind == "ping":
        services.hub.send(agent_id, {"type": "pong", "t": raw.get("t")})
    else:
        raise DialerError(f"unknown message type {kind!r}")


async def _order(request: web.Request, desk: LiveDesk, agent_id: int, o: OrderMsg) -> None:
    from dialer.store import journeys as journey

    desk.order_placed(agent_id, o.attempt_id, o.order_id, o.submit_ms / 1000.0)
    observe_journey(journey.ORDER_SUBMIT, o.submit_ms / 1000.0)
    committed = journey.utcnow()
    async with request.app[POOL].acquire() as conn:
        await journey.order_captured(
            conn, attempt_id=o.attempt_id, order_id=o.order_id,
            submitted_at=committed - dt.timedelta(milliseconds=o.submit_ms),
            committed_at=committed,
        )  # fmt: skip


@routes.get("/api/v1/dialer/ws")
@allow(Role.AGENT, Role.SUPERVISOR)
async def agent_socket(request: web.Request) -> web.WebSocketResponse:
    """The agent desktop's websocket. JSON messages both ways (docs/live-dialer.md)."""
    user = current_user(request)
    ws = web.WebSocketResponse(heartbeat=WS_HEARTBEAT_S)
    await ws.prepare(request)
    services = request.app[LIVE]
    conn = services.hub.open(user.id, ws)
    agent = services.desk.attach(user.id, user.username)
    services.hub.send(user.id, services.desk.state_message(agent))
    try:
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            try:
                raw = json.loads(msg.data)
                await _handle(request, user.id, raw)
            except (ValueError, ValidationError, DialerError) as exc:
                if isinstance(exc, ValidationError):
                    text = validation_error(exc).message
                else:
                    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                services.hub.send(user.id, {"type": "error", "message": text,
                                            "for": raw.get("type") if isinstance(raw, dict)
                                            else None})
    finally:
        services.desk.detach(user.id)
        await services.hub.close(user.id, conn)
    return ws


@routes.get("/api/v1/dialer/echo")
@allow(Role.AGENT, Role.SUPERVISOR)
async def echo_socket(request: web.Request) -> web.WebSocketResponse:
    """Echoes every text message: the benchmark's websocket baseline."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            await ws.send_str(msg.data)
    return ws


@routes.get("/api/v1/dialer/wallboard")
@allow(Role.SUPERVISOR)
async def wallboard(request: web.Request) -> web.Response:
    services = request.app[LIVE]
    async with request.app[POOL].acquire() as conn:
        body = await wallboard_json(conn, desk=services.desk, runtime=services.runtime)
    return web.json_response(body)


@routes.get("/api/v1/dialer/journeys")
@allow(Role.SUPERVISOR)
async def journeys(request: web.Request) -> web.Response:
    try:
        limit = min(200, max(1, int(request.query.get("limit", "30"))))
    except ValueError:
        raise ApiError(422, "invalid", "limit must be a number", field="limit") from None
    async with request.app[POOL].acquire() as conn:
        return web.json_response({"journeys": await journeys_json(conn, limit=limit)})


@routes.get("/api/v1/dialer/agents/me")
@allow(Role.AGENT, Role.SUPERVISOR)
async def my_state(request: web.Request) -> web.Response:
    user = current_user(request)
    desk = request.app[LIVE].desk
    agent = desk.agents.get(user.id)
    if agent is None:
        return web.json_response({"state": "offline"})
    return web.json_response(desk.state_message(agent))
