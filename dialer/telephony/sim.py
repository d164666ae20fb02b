"""The `sim` carrier: the simulator's callee model (`dialer.sim.carrier.CarrierModel`, the
same code and seeded stream as `bench pacing`) in real time, behind the event port. Every
delay is multiplied by `time_scale` (tests and benchmarks run a shift fast); the model is
asked on scenario time (real time since `open()` divided by the scale).

What it models, besides the callee mix and ring times of the scenario:
- capacity: `lines` trunk lines (default: the scenario's `trunk_lines`, else unlimited in
  practice); a dial beyond them fails with CONGESTION;
- agents' phone legs (attach/detach, `drop_agent_leg` for a leg that drops);
- customers who hang up mid-call (`customer_hangup`: talk seconds after the bridge);
- bridge failures (`bridge_failure_rate`, or an agent without a phone leg);
- prompts (`play`) that last `prompt_s`, each timed on its own (a call's prompts are not
  queued one behind the other as on Asterisk); `stop_prompts` cuts them, and each still
  reports its PromptDone at once;
- inbound calls (`ring_in`, or a Poisson stream of callers with `start_inbound`): the
  carrier answers and holds the caller, as Asterisk's dialplan hands a channel to our
  Stasis application, and reports `InboundCall`; callers press keys (`press`: `Dtmf`) and
  hang up after their patience unless bridged to an agent first;
- the call controls (hold, mute, transfer, listen/whisper/barge: `port.CallControls`) and
  recordings (a bridged call with `record` is "recorded": a WAV of its length, up to
  `RECORDING_MAX_S`, in `recordings_dir`, then `RecordingDone`), so pages and tests work
  without Asterisk (issue 14).
Events are delivered to the sink from the event loop (`call_soon` / `call_later`), never
from inside a command, so a caller sees its command return before what follows.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import random
import time
import wave
from pathlib import Path

from dialer.core.calls import CallState
from dialer.errors import TelephonyError
from dialer.sim.carrier import CarrierModel
from dialer.sim.scenario import Dist, Scenario, load_scenario
from dialer.telephony.events import (
    AgentLegDown,
    AgentLegUp,
    Answered,
    AnswerKind,
    BridgeFailed,
    Cause,
    Dtmf,
    EventSink,
    HungUp,
    InboundCall,
    PortEvent,
    PromptDone,
    RecordingDone,
    Ringing,
    Side,
    utcnow,
)
from dialer.telephony.port import AmdMode, MonitorMode, Originate

log = logging.getLogger(__name__)

DEFAULT_SCENARIO = "steady-50"
PROMPT_S = 4.0  # the safe-harbor message's length
DEFAULT_LINES = 10_000
RECORDING_MAX_S = 5.0  # the sim's recordings are silence: a few seconds stand for a call


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class InboundTraffic:
    """Callers dialling one of our numbers: Poisson arrivals (scenario seconds)."""

    called: str
    rate_per_s: float
    callers: tuple[str, ...]  # E.164 numbers drawn from (withheld: an empty string)
    patience: Dist | None = None  # how long a caller waits for an agent before hanging up


@dataclasses.dataclass(slots=True)
class _Call:
    call_id: str
    answered: bool = False
    agent_id: int | None = None
    record: bool = False
    bridged_at: float | None = None  # monotonic, when recording started
    held: bool = False
    muted: bool = False
    patience: asyncio.TimerHandle | None = None  # an inbound caller hangs up when it fires
    timers: list[asyncio.TimerHandle] = dataclasses.field(default_factory=list)
    # prompts being said: a number per play() -> (its end's timer, the prompt)
    saying: dict[int, tuple[asyncio.TimerHandle, str]] = dataclasses.field(default_factory=dict)

    def cancel(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


class SimCarrier:
    """A seeded stochastic carrier: live / machine / busy / failed / no answer."""

    name = "sim"

    def __init__(
        self,
        *,
        seed: int = 1,
        time_scale: float = 1.0,
        scenario: Scenario | None = None,
        lines: int | None = None,
        customer_hangup: Dist | None = None,
        bridge_failure_rate: float = 0.0,
        prompt_s: float = PROMPT_S,
        recordings_dir: Path | None = None,
    ) -> None:
        self.scenario = scenario or load_scenario(DEFAULT_SCENARIO)
        self.model = CarrierModel.seeded(self.scenario, seed=seed)  # the simulator's stream
        self.rng = random.Random(f"{seed}:sim-carrier")  # bridge failures, hang-ups
        self.time_scale = time_scale
        self.lines = lines or self.model.lines or DEFAULT_LINES
        self.customer_hangup = customer_hangup
        self.bridge_failure_rate = bridge_failure_rate
        self.prompt_s = prompt_s
        self.calls: dict[str, _Call] = {}
        self.legs: set[int] = set()
        self.bridged: dict[str, int] = {}  # every bridge made: call id -> agent id
        self.prompts: list[tuple[str, str]] = []  # (call id, prompt) as played
        self.stopped: list[tuple[str, str]] = []  # (call id, prompt) cut by stop_prompts
        self._plays = itertools.count(1)
        self.monitors: dict[int, tuple[int, MonitorMode]] = {}  # supervisor -> agent, mode
        self.recordings_dir = recordings_dir
        self.originated = 0
        self.inbound: list[str] = []  # inbound call ids, in arrival order
        self._traffic: asyncio.TimerHandle | None = None
        self._sink: EventSink | None = None
        self._started = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def open(self, sink: EventSink) -> None:
        self._sink = sink
        self._loop = asyncio.get_running_loop()
        self._started = time.monotonic()

    async def close(self) -> None:
        if self._traffic is not None:
            self._traffic.cancel()
        for call in self.calls.values():
            call.cancel()
        self.calls.clear()
        self.legs.clear()
        self._sink = None

    def capacity(self) -> int:
        return max(0, self.lines - len(self.calls))

    # -- scheduling ------------------------------------------------------------------------
    def _emit(self, event: PortEvent) -> None:
        if self._sink is not None:
            self._sink(event)

    def _soon(self, event: PortEvent) -> None:
        assert self._loop is not None, "open() the port first"
        self._loop.call_soon(self._emit, event)

    def _later(self, call: _Call, delay_s: float, fn: object, *args: object) -> asyncio.TimerHandle:
        assert self._loop is not None, "open() the port first"
        timer = self._loop.call_later(delay_s * self.time_scale, fn, *args)  # type: ignore[arg-type]
        call.timers.append(timer)
        return timer

    def _scenario_s(self) -> float:
        """Scenario seconds since the port opened (the model's drift runs on them)."""
        return (time.monotonic() - self._started) / self.time_scale

    # -- calls -----------------------------------------------------------------------------
    async def originate(self, request: Originate) -> None:
        self.originated += 1
        call = _Call(call_id=request.call_id)
        if len(self.calls) >= self.lines:
            self._soon(HungUp(call_id=request.call_id, cause=Cause.SWITCH_CONGESTION,
                              side=Side.NETWORK, at=utcnow()))
            return
        call.record = request.record
        self.calls[call.call_id] = call
        draw = self.model.draw(at_s=self._scenario_s(), max_ring_s=request.max_ring_s)
        state, delay_s = draw.outcome, draw.after_s
        if draw.ringing_after_s is not None:
            self._later(call, draw.ringing_after_s, self._ringing, call)
        if state is CallState.ANSWERED_LIVE:
            kind = AnswerKind.UNKNOWN if request.amd is AmdMode.OFF else AnswerKind.LIVE
            self._later(call, delay_s, self._answer, call, kind)
        elif state is CallState.ANSWERED_MACHINE:
            if request.amd is AmdMode.OFF:  # no detector: picked up, reported at once
                self._later(call, delay_s - self.scenario.amd_s, self._answer, call,
                            AnswerKind.UNKNOWN)
            else:
                self._later(call, delay_s, self._answer, call, AnswerKind.MACHINE)
        elif state is CallState.BUSY:
            self._later(call, delay_s, self._end, call, Cause.USER_BUSY, Side.NETWORK)
        elif state is CallState.FAILED:
            self._later(call, delay_s, self._end, call, Cause.TEMPORARY_FAILURE, Side.NETWORK)
        else:
            self._later(call, delay_s, self._end, call, Cause.NO_ANSWER, Side.DIALER)

    def _ringing(self, call: _Call) -> None:
        self._emit(Ringing(call_id=call.call_id, at=utcnow()))

    def _answer(self, call: _Call, kind: AnswerKind) -> None:
        call.answered = True
        self._emit(Answered(call_id=call.call_id, kind=kind, at=utcnow()))

    def _end(self, call: _Call, cause: int, side: Side) -> None:
        if self.calls.pop(call.call_id, None) is None:
            return
        call.cancel()
        self._emit(HungUp(call_id=call.call_id, cause=cause, side=side, at=utcnow()))
        self._record_done(call)

    async def bridge(self, call_id: str, *, agent_id: int) -> None:
        call = self.calls.get(call_id)
        reason = None
        if call is None or not call.answered:
            reason = "the call is not up"
        elif agent_id not in self.legs:
            reason = "the agent's phone is not connected"
        elif self.bridge_failure_rate and self.rng.random() < self.bridge_failure_rate:
            reason = "media error"
        if reason is not None:
            self._soon(BridgeFailed(call_id=call_id, agent_id=agent_id, reason=reason,
                                    at=utcnow()))
            return
        assert call is not None
        call.agent_id = agent_id
        self.bridged[call_id] = agent_id
        if call.patience is not None:  # with an agent now: the caller waits no longer
            call.patience.cancel()
            call.patience = None
        if call.record and call.bridged_at is None:
            call.bridged_at = time.monotonic()
        if self.customer_hangup is not None:
            talk_s = self.customer_hangup.sample(self.rng)
            self._later(call, talk_s, self._end, call, Cause.NORMAL_CLEARING, Side.CUSTOMER)

    async def play(self, call_id: str, prompt: str, *, words: str | None = None) -> None:
        self.prompts.append((call_id, prompt))
        call = self.calls.get(call_id)
        done = PromptDone(call_id=call_id, prompt=prompt, at=utcnow())
        if call is None:
            self._soon(done)
            return
        n = next(self._plays)
        call.saying[n] = (self._later(call, self.prompt_s, self._prompt_said, call, n), prompt)

    def _prompt_said(self, call: _Call, n: int) -> None:
        _, prompt = call.saying.pop(n)
        self._emit(PromptDone(call_id=call.call_id, prompt=prompt, at=utcnow()))

    async def stop_prompts(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None:
            return
        for timer, prompt in call.saying.values():
            timer.cancel()
            self.stopped.append((call_id, prompt))
            self._soon(PromptDone(call_id=call_id, prompt=prompt, at=utcnow()))
        call.saying.clear()

    async def hangup(self, call_id: str, *, cause: int = Cause.NORMAL_CLEARING) -> None:
        call = self.calls.pop(call_id, None)
        if call is None:
            return
        call.cancel()
        self._soon(HungUp(call_id=call_id, cause=cause, side=Side.DIALER, at=utcnow()))
        self._record_done(call)

    def hang_up_customer(self, call_id: str) -> None:
        """The customer puts the phone down now (tests)."""
        call = self.calls.get(call_id)
        if call is not None:
            self._end(call, Cause.NORMAL_CLEARING, Side.CUSTOMER)

    # -- inbound calls ---------------------------------------------------------------------
    def ring_in(self, *, called: str, caller_e164: str | None,
                patience_s: float | None = None) -> str:
        """A caller dials `called`: answered and held by the carrier, reported as
        `InboundCall`. With `patience_s` (scenario seconds) the caller hangs up after that
        long unless bridged to an agent first. Returns the call id."""
        call_id = f"sim-in-{len(self.inbound) + 1}-{self.rng.getrandbits(24):06x}"
        call = _Call(call_id=call_id, answered=True)
        self.calls[call_id] = call
        self.inbound.append(call_id)
        if patience_s is not None:
            assert self._loop is not None, "open() the port first"
            call.patience = self._loop.call_later(patience_s * self.time_scale, self._end,
                                                  call, Cause.NORMAL_CLEARING, Side.CUSTOMER)
            call.timers.append(call.patience)
        self._soon(InboundCall(call_id=call_id, caller_e164=caller_e164 or None, called=called,
                               at=utcnow()))
        return call_id

    def press(self, call_id: str, digits: str) -> None:
        """The caller presses keys (each a `Dtmf` event, in order)."""
        if call_id not in self.calls:
            raise TelephonyError(f"call {call_id} is not up")
        for digit in digits:
            self._soon(Dtmf(call_id=call_id, digit=digit, at=utcnow()))

    def start_inbound(self, traffic: InboundTraffic) -> None:
        """Callers arrive at `traffic.rate_per_s` until the port closes."""
        assert self._loop is not None, "open() the port first"
        if self._traffic is not None:
            self._traffic.cancel()
        if traffic.rate_per_s <= 0 or not traffic.callers:
            return

        def arrive() -> None:
            patience = traffic.patience.sample(self.rng) if traffic.patience else None
            self.ring_in(called=traffic.called, caller_e164=self.rng.choice(traffic.callers),
                         patience_s=patience)
            schedule()

        def schedule() -> None:
            assert self._loop is not None
            gap_s = self.rng.expovariate(traffic.rate_per_s)
            self._traffic = self._loop.call_later(gap_s * self.time_scale, arrive)

        schedule()

    # -- agents' phone legs ----------------------------------------------------------------
    async def attach_agent(self, agent_id: int, *, endpoint: str | None = None) -> None:
        self.legs.add(agent_id)
        self._soon(AgentLegUp(agent_id=agent_id, at=utcnow()))

    async def detach_agent(self, agent_id: int) -> None:
        if agent_id in self.legs:
            self.legs.discard(agent_id)
            self._soon(AgentLegDown(agent_id=agent_id, reason="detached", at=utcnow()))

    def drop_agent_leg(self, agent_id: int, reason: str = "network") -> None:
        """The agent's phone line drops (tests): calls bridged to it stay up."""
        if agent_id in self.legs:
            self.legs.discard(agent_id)
            self._emit(AgentLegDown(agent_id=agent_id, reason=reason, at=utcnow()))

    # -- call controls (port.CallControls) -------------------------------------------------
    def _bridged_call(self, call_id: str) -> _Call:
        call = self.calls.get(call_id)
        if call is None or call.agent_id is None:
            raise TelephonyError(f"call {call_id} is not with an agent")
        if call.agent_id not in self.legs:
            raise TelephonyError(f"call {call_id}: the agent's phone leg is down")
        return call

    async def hold(self, call_id: str) -> None:
        self._bridged_call(call_id).held = True

    async def resume(self, call_id: str) -> None:
        self._bridged_call(call_id).held = False

    async def mute(self, call_id: str, *, muted: bool) -> None:
        self._bridged_call(call_id).muted = muted

    async def transfer(self, call_id: str, *, to_agent_id: int) -> None:
        call = self._bridged_call(call_id)
        if to_agent_id not in self.legs:
            raise TelephonyError(f"agent {to_agent_id} has no phone leg")
        if to_agent_id == call.agent_id:
            raise TelephonyError("a call cannot be transferred to the agent who has it")
        call.agent_id, call.held, call.muted = to_agent_id, False, False
        self.bridged[call_id] = to_agent_id

    async def monitor(self, *, agent_id: int, supervisor_id: int, mode: MonitorMode) -> None:
        if agent_id not in self.legs:
            raise TelephonyError(f"agent {agent_id} has no phone leg")
        if supervisor_id not in self.legs:
            raise TelephonyError("connect your phone first (the supervisor's leg is down)",
                                 code="supervisor_phone_down")
        self.monitors[supervisor_id] = (agent_id, mode)

    async def stop_monitor(self, supervisor_id: int) -> None:
        self.monitors.pop(supervisor_id, None)

    # -- recordings ------------------------------------------------------------------------
    def _record_done(self, call: _Call) -> None:
        """A recorded call ended: its 'recording' (silence of the call's length, capped) is
        written as the call id's WAV and reported, as Asterisk would."""
        if call.bridged_at is None:
            return
        duration_s = (time.monotonic() - call.bridged_at) / self.time_scale
        if self.recordings_dir is not None:
            self.recordings_dir.mkdir(parents=True, exist_ok=True)
            seconds = min(duration_s, RECORDING_MAX_S)
            with wave.open(str(self.recordings_dir / f"{call.call_id}.wav"), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(bytes(2 * int(8000 * seconds)))
        self._soon(RecordingDone(call_id=call.call_id, name=call.call_id,
                                 duration_s=round(duration_s, 1), at=utcnow()))

