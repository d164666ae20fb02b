"""Supervisors on agents' lines (issue 14): connect their own phone, then listen, whisper
or barge on an agent.

The telephony that has the agent's phone leg is the one of the process running the agent's
campaign, which need not be this one (web nodes and `telemart dialer` processes joined by
NATS). So these requests go over the bus to the desk of the agent's campaign, as the
agents' own messages do; with one `telemart serve` the bus is in-process."""

from __future__ import annotations

import json
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dialer.errors import DialerError
from dialer.live.bus import BusDown, NoDesk, desk_subject
from dialer.store import agents
from server.auth import Role, User, allow, current_user
from server.errors import INT64_MAX, ApiError, read_json
from server.keys import LIVE, POOL

routes = web.RouteTableDef()
REQUEST_TIMEOUT_S = 5.0


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connect: bool
    endpoint: str | None = Field(default=None, max_length=200)  # else the agent template
    # the campaign whose dialer should call the phone (where the agents to monitor are);
    # none: this node's dialer
    campaign_id: int | None = Field(default=None, gt=0, le=INT64_MAX)


class MonitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent_id: int = Field(gt=0, le=INT64_MAX)  # a users.id: bigint
    mode: Literal["listen", "whisper", "barge"] | None  # None: stop


async def _campaign_of(request: web.Request, agent_id: int) -> int:
    """The campaign the agent is on now: this node's desk knows it, else their session."""
    found = request.app[LIVE].desk.agents.get(agent_id)
    campaign_id = found.campaign_id if found is not None else None
    if campaign_id is None:
        async with request.app[POOL].acquire() as conn:
            session = await agents.one(conn, agent_id=agent_id)
        if session is not None and session.state != "offline":
            campaign_id = session.campaign_id
    if campaign_id is None:
        raise ApiError(
            409,
            "agent_not_on_campaign",
            f"agent {agent_id} is not logged in on a campaign",
            field="agent_id",
        )
    return campaign_id


async def _to_desk(request: web.Request, user: User, campaign_id: int,
                   message: dict[str, Any]) -> None:  # fmt: skip
    """A supervisor's request to the desk of a campaign, wherever it runs."""
    payload = json.dumps({**message, "agent_id": user.id, "username": user.username}).encode()
    try:
        answer = json.loads(
            await request.app[LIVE].bus.request(
                desk_subject(campaign_id), payload, timeout_s=REQUEST_TIMEOUT_S
            )
        )
    except NoDesk:
        raise ApiError(
            409,
            "no_dialer",
            f"no dialer runs campaign {campaign_id} now: it is "
            "starting or being taken over; try again in a moment",
            campaign_id=campaign_id,
        ) from None
    except (BusDown, TimeoutError):
        raise ApiError(
            503, "reconnecting", "lost the dialer: reconnecting", headers={"Retry-After": "1"}
        ) from None
    if "error" in answer:
        raise ApiError(
            409, str(answer.get("code") or "refused"), str(answer["error"]), campaign_id=campaign_id
        )


@routes.post("/api/v1/dialer/supervisor/phone")
@allow(Role.SUPERVISOR)
async def supervisor_phone(request: web.Request) -> web.Response:
    """Call the supervisor's phone and keep the line up (or hang it up)."""
    body = PhoneIn.model_validate(await read_json(request))
    user = current_user(request)
    if body.campaign_id is not None and body.endpoint is None:
        await _to_desk(
            request, user, body.campaign_id, {"type": "supervisor_phone", "connect": body.connect}
        )
    else:
        runtime = request.app[LIVE].runtime
        if runtime is None:
            raise ApiError(
                409,
                "no_dialer",
                "this server runs no dialer: name the campaign "
                "(campaign_id) whose dialer should call your phone",
            )
        try:
            await runtime.supervisor_phone(user.id, connect=body.connect, endpoint=body.endpoint)
        except DialerError as exc:
            raise ApiError(409, exc.code, str(exc)) from exc
    return web.json_response(
        {"supervisor_id": user.id, "connect": body.connect, "campaign_id": body.campaign_id}
    )


@routes.post("/api/v1/dialer/monitor")
@allow(Role.SUPERVISOR)
async def monitor(request: web.Request) -> web.Response:
    """Listen, whisper or barge on an agent's line; `mode: null` stops."""
    body = MonitorIn.model_validate(await read_json(request))
    user = current_user(request)
    runtime = request.app[LIVE].runtime
    try:
        campaign_id = await _campaign_of(request, body.agent_id)
    except ApiError:
        if body.mode is not None:
            raise
        # Stopping on an agent who left: their phone leg (and the snoop on it) is gone;
        # this node's monitoring, if any, is stopped all the same.
        if runtime is not None:
            await runtime.monitor(supervisor_id=user.id, agent_id=body.agent_id, mode=None)
        return web.json_response({"agent_id": body.agent_id, "mode": None, "campaign_id": None})
    await _to_desk(
        request,
        user,
        campaign_id,
        {"type": "monitor", "watch_agent_id": body.agent_id, "mode": body.mode},
    )
    return web.json_response(
        {"agent_id": body.agent_id, "mode": body.mode, "campaign_id": campaign_id}
    )
