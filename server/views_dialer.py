"""Live dialer routes: the agents' websocket (this node's edge of the bus), the
wallboard's JSON, journeys, an echo.

An agent's message is checked here and sent over the bus to the desk of the agent's
campaign, wherever that runs; what the desk answers, and what it publishes to the agent,
comes back to every desktop of theirs on this node (server/ws.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from typing import Any, Literal

import asyncpg
from aiohttp import WSMsgType, web
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from crm.phones import normalize_e164
from dialer.live.bus import BusDown, NoDesk, desk_subject
from dialer.live.desk import PAUSE_REASONS
from dialer.store import agents
from server.auth import Role, allow, current_user
from server.csrf import same_origin
from server.errors import ApiError, validation_error
from server.keys import LIVE, POOL
from server.params import query_int
from server.ws import LiveServices
from server.ws_wallboard import journeys_json, wallboard_json

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
WS_HEARTBEAT_S = 15.0
MAX_MESSAGE_BYTES = 64 * 1024  # an agent's message is small; a larger one closes the socket
REQUEST_TIMEOUT_S = 5.0


class _Msg(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ReadyMsg(_Msg):
    type: Literal["ready"]
    campaign_id: int = Field(gt=0)
    preview: bool = False


class PauseMsg(_Msg):
    type: Literal["pause"]
    reason: str = Field(pattern="^(" + "|".join(PAUSE_REASONS) + ")$")
    back_in_s: float | None = Field(default=None, ge=0, le=12 * 3600)  # a scheduled return


class ScheduleMsg(_Msg):
    """The agent's next break or logout, as far as it is known (null: none)."""

    type: Literal["schedule"]
    leaves_in_s: float | None = Field(default=None, ge=0, le=12 * 3600)


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
    campaign_id: int | None = Field(default=None, gt=0)
    # preview_next: one of the agent's own callbacks, chosen from My callbacks
    lead_id: int | None = Field(default=None, gt=0, le=2**63 - 1)
    # preview_next: a number dialled by hand (the customer's lead in the agent's campaign)
    phone: str | None = Field(default=None, min_length=1, max_length=32)

    @field_validator("phone")
    @classmethod
    def _e164(cls, raw: str | None) -> str | None:
        if raw is None:
            return None
        e164 = normalize_e164(raw)
        if e164 is None:
            raise ValueError("not a phone number")
        return e164


class BareMsg(_Msg):
    type: Literal["logout", "state"]


class TransferTargetsMsg(_Msg):
    """Who the agent's call may be transferred to (the desk answers on the websocket)."""

    type: Literal["transfer_targets"]


class ControlMsg(_Msg):
    """Call controls on the agent's own call (issue 14)."""

    type: Literal["control"]
    attempt_id: int
    action: Literal["hold", "resume", "mute", "unmute", "transfer"]
    to_agent_id: int | None = Field(default=None, gt=0)


MESSAGES: dict[str, type[_Msg]] = {
    "ready": ReadyMsg, "pause": PauseMsg, "ack": CallMsg, "hangup": CallMsg,
    "disposition": DispositionMsg, "order": OrderMsg, "preview_next": PreviewMsg,
    "preview_dial": PreviewMsg, "preview_skip": PreviewMsg, "logout": BareMsg,
    "state": BareMsg, "schedule": ScheduleMsg, "control": ControlMsg,
    "transfer_targets": TransferTargetsMsg,
}


class _Refused(Exception):
    """A message the edge answers with an error itself."""


def _parse(data: str) -> dict[str, Any]:
    """A desktop's message as a checked dict (the desk gets it as JSON)."""
    try:
        raw = json.loads(data)
    except RecursionError:
        raise _Refused("message nested too deeply") from None
    except ValueError:
        raise _Refused("message is not JSON") from None
    if not isinstance(raw, dict):
        raise _Refused("a message is a JSON object with a type")
    kind = raw.get("type")
    if kind == "ping":
        t = raw.get("t")
        return {"type": "ping", "t": t if isinstance(t, int | float) else None}
    model = MESSAGES.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise _Refused(f"unknown message type {str(kind)[:40]!r}")
    try:
        return model.model_validate(raw).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        raise _Refused(validation_error(exc).message) from None
    except RecursionError:
        raise _Refused("message nested too deeply") from None


async def _forward(services: LiveServices, agent_id: int, username: str,
                   campaign_id: int, message: dict[str, Any]) -> None:
    """One message to the desk of the agent's campaign, wherever it runs; its error (or
    the bus's) back to the desktops."""
    payload = json.dumps({**message, "agent_id": agent_id, "username": username}).encode()
    try:
        answer = json.loads(await services.bus.request(desk_subject(campaign_id), payload,
                                                       timeout_s=REQUEST_TIMEOUT_S))
    except NoDesk:
        if message["type"] == "ready" and services.hub.pool is not None:
            async with services.hub.pool.acquire() as conn:
                await agents.wish_ready(conn, agent_id=agent_id, campaign_id=campaign_id,
                                        preview=bool(message.get("preview")))
            services.hub.send(agent_id, {"type": "notice", "code": "waiting_for_dialer",
                                         "text": "Waiting for the dialer to take the campaign"})
        elif message["type"] != "bye":
            services.hub.send(agent_id, {"type": "error", "code": "no_dialer",
                                         "message": "The dialer is reconnecting: try again",
                                         "for": message["type"]})
        return
    except (BusDown, TimeoutError):
        if message["type"] != "bye":
            services.hub.send(agent_id, {"type": "error", "code": "reconnecting",
                                         "message": "Lost the dialer: reconnecting",
                                         "for": message["type"]})
        return
    if "error" in answer:
        services.hub.send(agent_id, {"type": "error", "code": answer.get("code", "refused"),
                                     "message": answer["error"], "for": answer.get("for")})


def _offline_state() -> dict[str, Any]:
    return {"type": "state", "state": "offline", "campaign_id": None, "preview": False,
            "pause_reason": None, "in_state_s": 0.0, "attempt_id": None, "pop": None,
            "preview_lead": None, "phone": False}


@routes.get("/api/v1/dialer/ws")
@allow(Role.AGENT, Role.SUPERVISOR)
async def agent_socket(request: web.Request) -> web.WebSocketResponse:
    """The agent desktop's websocket. JSON messages both ways (docs/live-dialer.md)."""
    user = current_user(request)
    # Browsers send Origin on the handshake: only our own pages (or the allowed origins)
    # may open it, whatever the credentials; clients that are not browsers send none.
    if same_origin(request) is False:
        raise ApiError(403, "forbidden", "websocket from another origin")
    services = request.app[LIVE]
    hub = services.hub
    ws = web.WebSocketResponse(heartbeat=WS_HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)

    async def leave(campaign_id: int | None) -> None:
        if campaign_id is not None:
            await _forward(services, user.id, user.username, campaign_id, {"type": "bye"})

    def too_slow() -> None:  # it stopped reading: out of routing at once, then closed
        log.warning("agent %s: desktop not reading; closing it", user.id)
        conn.writer.cancel()

        async def drop() -> None:
            await leave(hub.campaign_of.get(user.id))
            await ws.close(code=1008, message=b"too slow")

        closing.append(asyncio.get_running_loop().create_task(drop()))

    closing: list[asyncio.Task[None]] = []
    conn = await hub.open(user.id, ws, too_slow)
    hub.usernames[user.id] = user.username
    async with request.app[POOL].acquire() as db:
        session = await agents.connected(db, agent_id=user.id, username=user.username,
                                         node=services.node, connections=hub.count(user.id))
    if user.id not in hub.campaign_of and session.campaign_id is not None \
            and session.state != "offline":
        hub.campaign_of[user.id] = session.campaign_id
    campaign_id = hub.campaign_of.get(user.id)
    if campaign_id is None:
        hub.send(user.id, _offline_state())
    else:
        await _forward(services, user.id, user.username, campaign_id, {"type": "hello"})
    try:
        async for msg in ws:
            if conn.dropped:
                break
            if msg.type is WSMsgType.BINARY:
                hub.send(user.id, {"type": "error", "code": "bad_message",
                                   "message": "send text messages", "for": None})
            if msg.type is not WSMsgType.TEXT:
                continue
            try:
                m = _parse(msg.data)
            except _Refused as exc:
                hub.send(user.id, {"type": "error", "code": "bad_message", "message": str(exc),
                                   "for": None})
                continue
            if m["type"] == "ping":
                hub.send(user.id, {"type": "pong", "t": m.get("t")})
                continue
            if m["type"] == "ack":
                # The pop is on the screen as of now: the desk (maybe in another process)
                # records this time, not its own, so that answer-to-pop leaves out the way
                # back over the bus. The edge dropped any `acked_at` the desktop sent.
                m["acked_at"] = dt.datetime.now(dt.UTC).isoformat()
            if m["type"] == "ready":
                hub.campaign_of[user.id] = int(m["campaign_id"])
            campaign_id = hub.campaign_of.get(user.id)
            if campaign_id is None:
                if m["type"] == "state":
                    hub.send(user.id, _offline_state())
                else:
                    hub.send(user.id, {"type": "error", "for": m["type"], "code": "no_campaign",
                                       "message": "choose a campaign and go ready first"})
                continue
            await _forward(services, user.id, user.username, campaign_id, m)
    finally:
        campaign_id = hub.campaign_of.get(user.id)
        await hub.close(user.id, conn)
        left = hub.count(user.id)
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            async with request.app[POOL].acquire() as db:
                await agents.disconnected(db, agent_id=user.id, node=services.node,
                                          connections=left)
        if not conn.dropped:
            await leave(campaign_id)
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
    user = current_user(request)
    async with request.app[POOL].acquire() as conn:
        body = await wallboard_json(conn, desk=services.desk, runtime=services.runtime)
    # The supervisor's own line, as far as this node's dialer knows it (issue 14): their
    # phone leg, and the agent they listen to, whisper to or barged in on.
    runtime = services.runtime
    watching = runtime.monitors.get(user.id) if runtime is not None else None
    body["me"] = {"phone": user.id in services.desk.legs,
                  # one process runs every campaign: what it says is the whole truth
                  "sure": runtime is not None and not services.bus.spans_nodes,
                  "monitoring": {"agent_id": watching[0], "mode": watching[1].value}
                  if watching is not None else None}  # fmt: skip
    return web.json_response(body)


@routes.get("/api/v1/dialer/journeys")
@allow(Role.SUPERVISOR)
async def journeys(request: web.Request) -> web.Response:
    limit = query_int(request, "limit", default=30, low=1, high=200) or 30
    async with request.app[POOL].acquire() as conn:
        return web.json_response({"journeys": await journeys_json(conn, limit=limit)})


@routes.get("/api/v1/dialer/agents/me")
@allow(Role.AGENT, Role.SUPERVISOR)
async def my_state(request: web.Request) -> web.Response:
    """The agent's session as the desk of their campaign last saved it."""
    user = current_user(request)
    async with request.app[POOL].acquire() as conn:
        session = await agents.one(conn, agent_id=user.id)
    if session is None:
        return web.json_response({"state": "offline"})
    return web.json_response({"state": session.state, "campaign_id": session.campaign_id,
                              "pause_reason": session.pause_reason,
                              "attempt_id": session.attempt_id,
                              "connected": session.connections > 0})
