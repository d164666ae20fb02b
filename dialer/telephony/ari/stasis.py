"""Our Stasis application: reading ARI's events (their times, the Dial statuses and AMD
results that mean something to the dialer, the event types Telemart knowingly ignores)
and what the application holds (calls, phone legs, background tasks).

The shapes follow a capture from a real Asterisk 22.10.1
(`../shared/telephony/asterisk-22-ari-events.jsonl`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import logging
import secrets
from collections.abc import Coroutine, Mapping
from typing import Any

from dialer.errors import TelephonyError, TelephonyUnavailable
from dialer.telephony.ari.client import AriClient, AriHttpError
from dialer.telephony.events import AnswerKind, Cause, utcnow
from dialer.telephony.port import Originate

log = logging.getLogger(__name__)

# Dial's `dialstatus` when a dial ends without an answer; ChannelDestroyed's cause wins
# when it says more than "normal clearing".
DIALSTATUS_CAUSE: dict[str, int] = {
    "BUSY": Cause.USER_BUSY,
    "NOANSWER": Cause.NO_ANSWER,
    "CONGESTION": Cause.CONGESTION,
    "CHANUNAVAIL": Cause.NETWORK_OUT_OF_ORDER,
    "CANCEL": Cause.NORMAL_CLEARING,
}

# AMD()'s AMDSTATUS, handed back as Stasis(app,amd,STATUS,CAUSE) by the dialplan.
AMD_KIND: dict[str, AnswerKind] = {
    "HUMAN": AnswerKind.LIVE,
    "MACHINE": AnswerKind.MACHINE,
    "NOTSURE": AnswerKind.UNKNOWN,
    "HANGUP": AnswerKind.UNKNOWN,
}

# Events that say nothing the dialer needs; anything else unknown is logged once.
IGNORED = frozenset({
    "ApplicationMoveFailed", "ApplicationRegistered", "ApplicationUnregistered",
    "BridgeAttendedTransfer", "BridgeBlindTransfer", "BridgeCreated", "BridgeDestroyed",
    "BridgeMerged", "BridgeVideoSourceChanged", "ChannelCallerId", "ChannelConnectedLine",
    "ChannelCreated", "ChannelDialplan", "ChannelHold", "ChannelLeftBridge",
    "ChannelTalkingFinished", "ChannelTalkingStarted", "ChannelToneDetected",
    "ChannelTransfer", "ChannelUnhold", "ChannelUserevent", "ChannelVarset",
    "ContactStatusChange", "DeviceStateChanged", "EndpointStateChange", "PeerStatusChange",
    "PlaybackContinuing", "PlaybackStarted", "RecordingStarted", "StasisEnd",
    "TextMessageReceived",
})  # fmt: skip


def timestamp(msg: dict[str, Any]) -> dt.datetime:
    """The event's own time (Asterisk's clock, "2026-12-03T07:02:26.436+0000")."""
    raw = msg.get("timestamp")
    if isinstance(raw, str):
        try:
            return dt.datetime.fromisoformat(raw)  # 100 times faster than strptime
        except ValueError:
            pass
    return utcnow()


def amd_kind(status: str) -> AnswerKind:
    return AMD_KIND.get(status.upper(), AnswerKind.UNKNOWN)


# -- what our Stasis application holds -----------------------------------------------------
@dataclasses.dataclass(kw_only=True, slots=True)
class CallLine:
    """A customer's channel, named by the dialer's call id."""

    request: Originate
    answered_rx: float | None = None  # perf_counter when the answer event arrived
    rang: bool = False
    up_at: dt.datetime | None = None
    answered: bool = False
    ended_by_us: int | None = None  # the cause we hung up with
    remote_cause: int | None = None
    dial_cause: int | None = None
    ring_timer: asyncio.TimerHandle | None = None
    agent_id: int | None = None  # whose bridge the call is in
    held: bool = False
    muted: bool = False
    recording: str | None = None  # live recording's name
    recordings: int = 0


@dataclasses.dataclass(kw_only=True, slots=True)
class PhoneLeg:
    """An agent's (or a supervisor's) phone leg and holding bridge."""

    agent_id: int
    channel_id: str
    bridge_id: str
    up: bool = False
    detaching: bool = False
    ended: bool = False


class Lines:
    """The calls and phone legs one driver holds, by the ids Asterisk knows them by."""

    def __init__(self) -> None:
        self.calls: dict[str, CallLine] = {}
        self.legs: dict[int, PhoneLeg] = {}
        self.leg_by_channel: dict[str, PhoneLeg] = {}
        self.monitors: dict[int, str] = {}  # supervisor id -> snoop channel id
        self.playbacks: dict[str, tuple[str, str]] = {}  # playback id -> (call id, prompt)
        self.recordings: dict[str, str] = {}  # recording name -> call id
        self._seq = itertools.count(1)
        self._token = secrets.token_hex(2)

    def new_id(self, prefix: str) -> str:
        """A channel or playback id unique to this driver and this run."""
        return f"{prefix}{self._token}{next(self._seq)}"

    def add_leg(self, leg: PhoneLeg) -> None:
        self.legs[leg.agent_id] = leg
        self.leg_by_channel[leg.channel_id] = leg

    def bridged(self, call_id: str) -> tuple[CallLine, PhoneLeg]:
        """A call with an agent, and that agent's leg (TelephonyError if there is none)."""
        call = self.calls.get(call_id)
        if call is None or call.agent_id is None:
            raise TelephonyError(f"call {call_id} is not with an agent")
        leg = self.legs.get(call.agent_id)
        if leg is None or not leg.up:
            raise TelephonyError(f"call {call_id}: the agent's phone leg is down")
        return call, leg

    def leg_up(self, agent_id: int, what: str, *, code: str | None = None) -> PhoneLeg:
        leg = self.legs.get(agent_id)
        if leg is None or not leg.up:
            raise TelephonyError(what, code=code)
        return leg


class Tasks:
    """Named background tasks (a REST call that must not hold up an event); failures are
    logged, and all are cancelled on close."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("ARI task %s failed: %s", task.get_name(), task.exception())

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def quietly(client: AriClient, method: str, path: str,
                  params: Mapping[str, str] | None = None) -> bool:
    """A REST call whose failure only needs a log line (cleaning up). True if it worked."""
    try:
        await client.request(method, path, params=params)
    except (AriHttpError, TelephonyUnavailable) as exc:
        if not (isinstance(exc, AriHttpError) and exc.status == 404):
            log.info("%s %s: %s", method, path, exc)
        return False
    return True


async def ensure_bridge(client: AriClient, bridge_id: str, *, name: str,
                        kind: str = "mixing") -> None:
    try:
        await client.request("POST", f"/bridges/{bridge_id}", params={"type": kind, "name": name})
    except AriHttpError as exc:
        if exc.status != 409:  # already there (kept from an earlier login)
            raise
