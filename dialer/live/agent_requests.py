"""What an agent's desktop asks of the desk of their campaign, wherever the websocket is.

The web node checks each message (pydantic, at the edge) and sends it over the bus as JSON:
`{"agent_id", "username", "type", ...}`; this side applies it to the desk and answers
`{"ok": true}` or `{"error": message, "code": code, "for": type}` (the code for the page's
catalog, the message in English). What the desktop sees next (state,
pop, notices) the desk publishes to the agent's subject.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from dialer.errors import DialerError
from dialer.live.desk import LiveDesk
from dialer.live.outcomes import DispositionEntry

log = logging.getLogger(__name__)

Dispose = Callable[[DispositionEntry, int, "str | None"], None]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentActions:
    """What the runtime does for an agent beyond the desk's own state."""

    hello: Callable[[int, str], Awaitable[None]]  # a desktop connected
    dispose: Dispose  # (entry, attempt id, pause reason)
    # (agent, campaign, one of the agent's callbacks, a number dialled by hand (E.164);
    # neither: the next lead)
    preview_next: Callable[[int, int, int | None, str | None],
                           Awaitable[dict[str, Any] | None]]
    preview_dial: Callable[[int], int]
    preview_skip: Callable[[int], Awaitable[None]]
    order: Callable[[int, int, int, float], Awaitable[None]]  # agent, attempt, order, submit s
    # agent, attempt, action (hold/resume/mute/unmute/transfer), the agent to transfer to
    control: Callable[[int, int, str, int | None], Awaitable[None]] | None = None
    # a supervisor on an agent's line: supervisor, agent, mode (None: stop)
    monitor: Callable[[int, int, str | None], Awaitable[None]] | None = None
    supervisor_phone: Callable[[int, bool], Awaitable[None]] | None = None  # connect?


def _when(raw: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None


async def apply(desk: LiveDesk, actions: AgentActions, m: dict[str, Any]) -> dict[str, Any]:
    """One agent message, already checked at the edge."""
    agent_id, kind = int(m["agent_id"]), str(m["type"])
    if kind == "hello":
        await actions.hello(agent_id, str(m["username"]))
        return {"ok": True}
    if kind == "bye":
        desk.detach(agent_id)
        return {"ok": True}
    # A supervisor (not an agent of this desk) on the line of an agent of this campaign:
    # sent by the web node that took the request, to the process whose telephony has the
    # agent's phone leg (issue 14).
    if kind == "monitor" and actions.monitor is not None:
        mode = m.get("mode")
        await actions.monitor(agent_id, int(m["watch_agent_id"]),
                              str(mode) if mode is not None else None)
        return {"ok": True}
    if kind == "supervisor_phone" and actions.supervisor_phone is not None:
        await actions.supervisor_phone(agent_id, bool(m["connect"]))
        return {"ok": True}
    desk.seen(agent_id, str(m["username"]))
    if kind == "ready":
        desk.ready(agent_id, campaign_id=int(m["campaign_id"]), preview=bool(m.get("preview")))
    elif kind == "pause":
        back = m.get("back_in_s")
        desk.pause(agent_id, reason=str(m["reason"]),
                   back_in_s=float(back) if back is not None else None)
    elif kind == "schedule":
        leaves = m.get("leaves_in_s")
        desk.schedule(agent_id, leaves_in_s=float(leaves) if leaves is not None else None)
    elif kind == "logout":
        desk.logout(agent_id)
    elif kind == "ack":
        at = _when(m.get("acked_at"))  # stamped by the web node, never by the desktop
        desk.ack(agent_id, int(m["attempt_id"]), at=at if at and at.tzinfo else None)
    elif kind == "hangup":
        desk.hangup(agent_id, int(m["attempt_id"]))
    elif kind == "disposition":
        entry = DispositionEntry(code=str(m["code"]), agent_id=agent_id,
                                 callback_at=_when(m.get("callback_at")),
                                 callback_mine=bool(m.get("callback_mine")),
                                 note=str(m.get("note") or ""))
        actions.dispose(entry, int(m["attempt_id"]), m.get("then_pause"))
    elif kind == "order":
        desk.order_placed(agent_id, int(m["attempt_id"]), int(m["order_id"]),
                          float(m["submit_ms"]) / 1000.0)
        await actions.order(agent_id, int(m["attempt_id"]), int(m["order_id"]),
                            float(m["submit_ms"]) / 1000.0)
    elif kind == "preview_next":
        agent = desk.agent(agent_id)
        lead_id = m.get("lead_id")
        phone = m.get("phone")
        if phone is not None:  # dialled by hand (E.164, checked at the edge): own campaign
            await actions.preview_next(agent_id, int(agent.campaign_id or 0), None, str(phone))
        elif lead_id is not None:  # a callback from the agent's list: in their own campaign
            await actions.preview_next(agent_id, int(agent.campaign_id or 0), int(lead_id), None)
        else:
            campaign_id = m.get("campaign_id") or agent.campaign_id or 0
            if await actions.preview_next(agent_id, int(campaign_id), None, None) is None:
                desk.notice(agent_id, "no_lead", "No lead to call now")
    elif kind == "preview_dial":
        actions.preview_dial(agent_id)
    elif kind == "preview_skip":
        await actions.preview_skip(agent_id)
    elif kind == "state":
        desk.push_state(desk.agent(agent_id), with_pop=True)
    elif kind == "transfer_targets":
        desk.send(agent_id, {"type": "transfer_targets",
                             "agents": desk.transfer_targets(agent_id)})
    elif kind == "control" and actions.control is not None:
        to = m.get("to_agent_id")
        await actions.control(agent_id, int(m["attempt_id"]), str(m["action"]),
                              int(to) if to is not None else None)
    else:
        raise DialerError(f"unknown message type {kind!r}")
    return {"ok": True}


def responder(desk: LiveDesk, actions: AgentActions) -> Callable[[bytes], Awaitable[bytes]]:
    """The bus responder of a desk: bytes in, bytes out, a domain error as an answer.

    Requests are answered concurrently (one agent's order waiting for the database must
    not hold up another's ack), but an agent's other messages wait for their `hello`: it
    looks the agent's session up before the desk knows them, and a message applied
    meanwhile would meet no agent and attach one, offline, that the desktop sees first
    (a call given back after a crash then arrived second)."""
    hellos: dict[int, asyncio.Event] = {}

    async def after_hello(m: dict[str, Any]) -> dict[str, Any]:
        agent_id = int(m["agent_id"])
        if m.get("type") != "hello":
            pending = hellos.get(agent_id)
            if pending is not None:
                await pending.wait()
            return await apply(desk, actions, m)
        done = hellos[agent_id] = asyncio.Event()
        try:
            return await apply(desk, actions, m)
        finally:
            done.set()
            if hellos.get(agent_id) is done:
                del hellos[agent_id]

    async def respond(data: bytes) -> bytes:
        m: dict[str, Any] = {}
        try:
            m = json.loads(data)
            answer = await after_hello(m)
        except DialerError as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            answer = {"error": text, "code": exc.code, "for": m.get("type")}
        except (ValueError, KeyError, TypeError) as exc:
            answer = {"error": f"bad message: {exc}", "code": "bad_message", "for": m.get("type")}
        return json.dumps(answer).encode()

    return respond
