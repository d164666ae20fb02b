"""What telephony reports: one stream of events, each a frozen record.

A port (`dialer.telephony.port`) hands every event to the sink given to `open()`; the live
runtime routes call events to the task that owns the call (by `call_id`) and agent-leg and
inbound events to the desk. Times are timezone-aware (UTC) and taken where the event
happened (the carrier's or Asterisk's clock when it says, else ours on receipt).

Hang-up causes are Q.850 codes, as SIP, ISDN and Asterisk report them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable


class AnswerKind(enum.StrEnum):
    LIVE = "live"  # a person
    MACHINE = "machine"  # an answering machine or voicemail (AMD said so)
    UNKNOWN = "unknown"  # answered, AMD off or undecided: treated as live


class Side(enum.StrEnum):
    """Who ended a call."""

    CUSTOMER = "customer"  # the callee (or the inbound caller) hung up
    AGENT = "agent"  # the agent's phone hung up
    DIALER = "dialer"  # Telemart asked for it (hangup(), ring timeout, safe-harbor)
    NETWORK = "network"  # the carrier or the media server ended it (busy, failure, ...)


class Cause(enum.IntEnum):
    """The Q.850 causes the dialer tells apart; any other code is kept as an int."""

    UNALLOCATED = 1
    NORMAL_CLEARING = 16
    USER_BUSY = 17
    NO_USER_RESPONSE = 18
    NO_ANSWER = 19
    CALL_REJECTED = 21
    NUMBER_CHANGED = 22
    OUT_OF_ORDER = 27
    INVALID_NUMBER_FORMAT = 28
    NORMAL_UNSPECIFIED = 31
    CONGESTION = 34
    NETWORK_OUT_OF_ORDER = 38
    TEMPORARY_FAILURE = 41
    SWITCH_CONGESTION = 42


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Ringing:
    call_id: str
    at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Answered:
    call_id: str
    kind: AnswerKind
    at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class HungUp:
    """The call is over on the telephony side; no more events for `call_id`."""

    call_id: str
    cause: int  # Q.850 (see Cause)
    side: Side
    at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class BridgeFailed:
    """`bridge(call_id, agent_id)` could not join the call to the agent's leg."""

    call_id: str
    agent_id: int
    reason: str
    at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PromptDone:
    """A prompt started with `play()` finished, or was stopped (`stop_prompts()`, or a
    hang-up: the ARI driver reports it before HungUp, the sim carrier not at all)."""

    call_id: str
    prompt: str
    at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Dtmf:
    """A key the caller pressed (inbound menus, ARS, keep-my-place)."""

    call_id: str
    digit: str  # one of 0-9 * #
    at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class InboundCall:
    """A caller reached one of our numbers; the port holds the call until told what to do."""

    call_id: str
    caller_e164: str | None  # None when the caller withheld the number
    called: str  # the number dialled (maps to a queue)
    at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentLegUp:
    """The agent's phone answered and sits in the agent's holding bridge."""

    agent_id: int
    at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentLegDown:
    """The agent's phone leg ended (hung up, network, logout): not routable any more."""

    agent_id: int
    reason: str
    at: dt.datetime


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AmdDecided:
    """AMD `vad`: the call was reported `Answered(unknown)` and connected at once; this
    says later (about 2 s) what answered. A machine is then dropped or left a message."""

    call_id: str
    kind: AnswerKind  # live or machine (unknown when the audio never decided)
    at: dt.datetime
    detail: str = ""  # why (e.g. "greeting 3.1 s")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RecordingDone:
    """A call's recording is closed and stored under `name` (the attempt's call id)."""

    call_id: str
    name: str
    duration_s: float
    at: dt.datetime


CallEvent = (
    Ringing | Answered | HungUp | BridgeFailed | PromptDone | Dtmf | AmdDecided | RecordingDone
)
AgentEvent = AgentLegUp | AgentLegDown
PortEvent = CallEvent | AgentEvent | InboundCall
EventSink = Callable[[PortEvent], None]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
