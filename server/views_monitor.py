"""Supervisors on agents' lines (issue 14): connect their own phone, then listen, whisper
or barge on an agent. The dialer's telephony does it, so this runs on a node that runs
the dialer (the default single process); elsewhere it says so."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dialer.errors import DialerError
from dialer.live.runtime import DialerRuntime
from server.auth import Role, allow, current_user
from server.errors import ApiError, read_json
from server.keys import LIVE

routes = web.RouteTableDef()


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connect: bool
    endpoint: str | None = Field(default=None, max_length=200)  # else the agent template


class MonitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent_id: int = Field(gt=0)
    mode: Literal["listen", "whisper", "barge"] | None  # None: stop


def _runtime(request: web.Request) -> DialerRuntime:
    runtime = request.app[LIVE].runtime
    if runtime is None:
        raise ApiError(409, "no_dialer",
                       "this server runs no dialer: monitor from a node that runs one")
    return runtime


@routes.post("/api/v1/dialer/supervisor/phone")
@allow(Role.SUPERVISOR)
async def supervisor_phone(request: web.Request) -> web.Response:
    """Call the supervisor's phone and keep the line up (or hang it up)."""
    body = PhoneIn.model_validate(await read_json(request))
    user = current_user(request)
    try:
        await _runtime(request).supervisor_phone(user.id, connect=body.connect,
                                                 endpoint=body.endpoint)
    except DialerError as exc:
        raise ApiError(409, "telephony", str(exc)) from exc
    return web.json_response({"supervisor_id": user.id, "connect": body.connect})


@routes.post("/api/v1/dialer/monitor")
@allow(Role.SUPERVISOR)
async def monitor(request: web.Request) -> web.Response:
    """Listen, whisper or barge on an agent's line; `mode: null` stops."""
    body = MonitorIn.model_validate(await read_json(request))
    user = current_user(request)
    try:
        await _runtime(request).monitor(supervisor_id=user.id, agent_id=body.agent_id,
                                        mode=body.mode)
    except DialerError as exc:
        raise ApiError(409, "telephony", str(exc)) from exc
    return web.json_response({"agent_id": body.agent_id, "mode": body.mode})
