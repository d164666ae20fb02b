"""`telephony = "ari"`: the telephony port on an Asterisk, through its REST interface.

Every channel Telemart makes is originated into our Stasis application with an id we
choose: a customer's channel carries the call id the dialer gave (campaign and attempt in
it), an agent's phone leg `tm-agent-<agent>-<n>`, and each agent has a mixing bridge
`tm-agent-<agent>` that the leg sits in while the agent is logged in. A live answer is
joined to that bridge with one REST call.

The port holds the calls and legs (`stasis.Lines`) and turns what Asterisk says into the
port's events; `controls`, `recordings` and `amd` do their part on the same lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any, ClassVar

from crm.phones import normalize_e164
from dialer.errors import TelephonyError, TelephonyUnavailable
from dialer.telephony import events as ev
from dialer.telephony.ari import stasis
from dialer.telephony.ari.amd import Decision, VadRunner
from dialer.telephony.ari.client import AriClient, AriHttpError
from dialer.telephony.ari.controls import Controls
from dialer.telephony.ari.recordings import Recorder
from dialer.telephony.ari.stasis import CallLine, Lines, PhoneLeg, Tasks, ensure_bridge, quietly
from dialer.telephony.events import AnswerKind, Cause, EventSink, Side, utcnow
from dialer.telephony.port import AmdMode, MonitorMode, Originate
from dialer.telephony.speech import (
    ROUTE,
    Speech,
    SpeechError,
    SpeechServer,
    check_speech,
    listen_address,
)

log = logging.getLogger(__name__)

AGENT_PREFIX = "tm-agent-"
CLOSE_S = 3.0  # hang-ups sent on close wait this long for Asterisk


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AriSettings:
    url: str = "http://127.0.0.1:8088/ari"
    user: str = "telemart"
    password: str = ""
    app: str = "telemart"  # one per dialer process (Asterisk gives an app one websocket)
    dial_template: str = "PJSIP/{number}@carrier"  # {number} {e164} {national}
    agent_endpoint: str = "PJSIP/{extension}"  # {extension} {agent_id}
    caller_id: str | None = None  # when the campaign sets none
    trunk_lines: int = 30  # outbound calls up at once
    amd_context: str = "telemart-amd"  # dialplan context that runs AMD() (docs)
    sounds: str = "sound:telemart/{prompt}"  # media URI of a prompt
    language: str = "ko"
    agent_ring_s: float = 30.0
    rtp_host: str = "127.0.0.1"  # where Asterisk sends AMD audio (this host, as it sees us)
    rtp_port: int = 0  # 0: any free port
    recording_format: str = "wav"
    announcement: str = "recording-notice"  # prompt heard first on a recorded call ("": none)
    # words said by text-to-speech (dialer.telephony.speech): this process's speech server
    # as Asterisk reaches it; None: every prompt is its recording
    speech_url: str | None = None
    speech_listen: str | None = None  # host:port to bind (None: the URL's)
    speech_voice: str = "ko"


class AriPort:
    """The port (`dialer.telephony.port.TelephonyPort`) and its call controls on ARI."""

    name = "ari"

    def __init__(
        self, settings: AriSettings, *, observe: Callable[[str, float], None] | None = None
    ) -> None:
        self.settings = settings
        self.client = AriClient(url=settings.url, user=settings.user,
                                password=settings.password, app=settings.app)
        # ("answer_to_bridge", s): answer event in -> bridge command out (what Telemart adds);
        # ("add_to_bridge", s): the bridge command's round trip (what Asterisk takes)
        self.observe = observe
        self.lines = Lines()
        self.tasks = Tasks()
        self.recorder = Recorder(
            self.client, self.lines, self.tasks, file_format=settings.recording_format,
            announcement=self.media(settings.announcement) if settings.announcement else None,
            language=settings.language)  # fmt: skip
        self.controls = Controls(self.client, self.lines, self.tasks, self.recorder,
                                 app=settings.app)
        self.vad = VadRunner(self.client, self.lines, self.tasks, app=settings.app,
                             rtp_host=settings.rtp_host, rtp_port=settings.rtp_port,
                             on_decision=self._vad_decided)
        self.speech: Speech | None = None
        self._speech_server: SpeechServer | None = None
        if settings.speech_url:
            host, port = listen_address(settings.speech_url, settings.speech_listen)
            self.speech = Speech(voice=settings.speech_voice)
            self._speech_server = SpeechServer(self.speech, host=host, port=port)
        self._sink: EventSink = lambda event: None
        self._stopping = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._unknown_seen: set[str] = set()
        self.reconnects = 0

    # -- lifecycle -------------------------------------------------------------------------
    async def open(self, sink: EventSink) -> None:
        self._sink = sink
        self._stopping.clear()
        await self.client.check()
        if self._speech_server is not None:
            await check_speech(self._speech_server.speech.voice)
            await self._speech_server.start()
        ws = await self.client.connect_events()
        self._listener = asyncio.create_task(
            self.client.listen(ws, on_event=self.on_event, on_connect=self._on_connect,
                               on_disconnect=self._on_disconnect, stopping=self._stopping),
            name=f"ari-events-{self.settings.app}",
        )  # fmt: skip
        async with asyncio.timeout(5.0):
            await self.client.connected.wait()

    async def close(self) -> None:
        self._stopping.set()
        bridges = [leg.bridge_id for leg in self.lines.legs.values()]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_S):
                await asyncio.gather(
                    *(self.hangup(cid) for cid in list(self.lines.calls)),
                    *(self.detach_agent(aid) for aid in list(self.lines.legs)),
                    return_exceptions=True,
                )  # fmt: skip
                await asyncio.gather(*(quietly(self.client, "DELETE", f"/bridges/{b}")
                                       for b in bridges))
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.tasks.cancel_all()
        self.vad.close()
        if self._speech_server is not None:
            await self._speech_server.close()
        await self.client.close()

    def capacity(self) -> int:
        if not self.client.connected.is_set():
            return 0  # nothing is dialled blind
        return max(0, self.settings.trunk_lines - len(self.lines.calls))

    # -- calls -----------------------------------------------------------------------------
    async def originate(self, request: Originate) -> None:
        if request.call_id in self.lines.calls:
            raise TelephonyError(f"call {request.call_id} is already up")
        call = CallLine(request=request)
        self.lines.calls[request.call_id] = call
        call.ring_timer = asyncio.get_running_loop().call_later(
            request.max_ring_s, self._ring_timeout, request.call_id)
        params: dict[str, str | int | float | bool] = {
            "endpoint": dial_string(self.settings.dial_template, request.phone_e164),
            "app": self.settings.app, "appArgs": "dial",
            # Asterisk's own limit stays behind ours, which reports the cause we want.
            "timeout": int(request.max_ring_s) + 5,
        }  # fmt: skip
        caller = request.caller_id or self.settings.caller_id
        if caller:
            params["callerId"] = caller
        variables = {"TM_APP": self.settings.app, "TM_CALL": request.call_id}
        try:
            await self.client.request("POST", f"/channels/{request.call_id}", params=params,
                                      body={"variables": variables})
        except (AriHttpError, TelephonyUnavailable) as exc:
            cause = (Cause.NETWORK_OUT_OF_ORDER if isinstance(exc, TelephonyUnavailable)
                     else Cause.TEMPORARY_FAILURE)
            log.warning("originate %s refused: %s", request.call_id, exc)
            self._end_call(request.call_id, cause=cause, side=Side.NETWORK, at=utcnow())

    async def bridge(self, call_id: str, *, agent_id: int) -> None:
        call = self.lines.calls.get(call_id)
        leg = self.lines.legs.get(agent_id)
        if call is None or leg is None or not call.answered or not leg.up:
            reason = ("call is gone" if call is None else "call not answered"
                      if not call.answered else "agent has no phone leg")
            self._emit(ev.BridgeFailed(call_id=call_id, agent_id=agent_id, reason=reason,
                                       at=utcnow()))
            return
        # Asterisk runs a channel's addChannel only after the playback under way on it ends:
        # on 22.10.1 a caller who pressed 0 in the ARS welcome reached the agent 8.7 s later
        await self.stop_prompts(call_id)
        sent = time.perf_counter()
        if call.answered_rx is not None and self.observe is not None:
            self.observe("answer_to_bridge", sent - call.answered_rx)
        try:
            await self.client.request("POST", f"/bridges/{leg.bridge_id}/addChannel",
                                      params={"channel": call_id})
        except (AriHttpError, TelephonyUnavailable) as exc:
            self._emit(ev.BridgeFailed(call_id=call_id, agent_id=agent_id,
                                       reason=str(exc.detail), at=utcnow()))
            return
        if self.observe is not None:
            self.observe("add_to_bridge", time.perf_counter() - sent)
        call.agent_id, call.held = agent_id, False
        if call.request.record:
            self.recorder.start(call_id, leg.bridge_id)

    async def play(self, call_id: str, prompt: str, *, words: str | None = None) -> None:
        playback_id = self.lines.new_id("tm-pb-")
        self.lines.playbacks[playback_id] = (call_id, prompt)
        media = self.media(prompt)
        if words and self.speech is not None:
            media = await self._spoken(words, fallback=media)
            if playback_id not in self.lines.playbacks:
                return  # stopped while the words were made: stop_prompts reported it
        try:
            await self.client.request(
                "POST", f"/channels/{call_id}/play/{playback_id}",
                params={"media": media, "lang": self.settings.language})
        except (AriHttpError, TelephonyUnavailable) as exc:
            log.warning("prompt %s on %s failed: %s", prompt, call_id, exc)
            if self.lines.playbacks.pop(playback_id, None) is not None:
                self._emit(ev.PromptDone(call_id=call_id, prompt=prompt, at=utcnow()))

    async def stop_prompts(self, call_id: str) -> None:
        """`DELETE /playbacks/{id}` for every playback we started on the call and that has
        not finished: Asterisk stops the one playing and cancels those queued, and each
        ends with PlaybackFinished (state `done`), which reports its PromptDone. A 404 is
        a playback already over whose event is on its way or was lost with the events
        socket: reported now (whichever comes first reports it, once). The last asked for
        is stopped first: stopping the one playing first would let the next start, heard
        for the length of a round trip."""
        started = [pb for pb, (owner, _) in self.lines.playbacks.items() if owner == call_id]
        for playback_id in reversed(started):
            await self._stop_playback(playback_id)

    async def _stop_playback(self, playback_id: str) -> None:
        try:
            await self.client.request("DELETE", f"/playbacks/{playback_id}")
        except AriHttpError as exc:
            if exc.status != 404:
                log.info("stopping playback %s: %s", playback_id, exc)
                return
            found = self.lines.playbacks.pop(playback_id, None)
            if found is not None:
                self._emit(ev.PromptDone(call_id=found[0], prompt=found[1], at=utcnow()))
        except TelephonyUnavailable as exc:  # the call's end reports it if it never stops
            log.info("stopping playback %s: %s", playback_id, exc)

    async def hangup(self, call_id: str, *, cause: int = Cause.NORMAL_CLEARING) -> None:
        call = self.lines.calls.get(call_id)
        if call is None:
            return
        if call.ended_by_us is None:
            call.ended_by_us = cause
        await self._delete_call(call_id, cause)

    async def _delete_call(self, call_id: str, cause: int) -> None:
        try:
            await self.client.request("DELETE", f"/channels/{call_id}",
                                      params={"reason_code": cause})
        except AriHttpError as exc:
            call = self.lines.calls.get(call_id)
            if exc.status == 404 and call is not None:  # gone while we were not listening
                self._end_call(call_id, cause=call.ended_by_us or cause, side=Side.DIALER,
                               at=utcnow())
            elif exc.status != 404:
                raise

    def _ring_timeout(self, call_id: str) -> None:
        call = self.lines.calls.get(call_id)
        if call is None or call.answered or call.up_at is not None:
            return
        call.ended_by_us = Cause.NO_ANSWER
        self.tasks.spawn(self._delete_call(call_id, Cause.NO_ANSWER), f"ring-timeout-{call_id}")

    # -- agents' phone legs ----------------------------------------------------------------
    async def attach_agent(self, agent_id: int, *, endpoint: str | None = None) -> None:
        old = self.lines.legs.get(agent_id)
        if old is not None and not old.ended and not old.detaching:
            if old.up:
                self._emit(ev.AgentLegUp(agent_id=agent_id, at=utcnow()))
            return
        leg = PhoneLeg(agent_id=agent_id, bridge_id=f"{AGENT_PREFIX}{agent_id}",
                       channel_id=self.lines.new_id(f"{AGENT_PREFIX}{agent_id}-"))
        self.lines.add_leg(leg)
        target = endpoint if endpoint and "/" in endpoint else \
            self.settings.agent_endpoint.format(extension=endpoint or agent_id, agent_id=agent_id)
        try:
            await ensure_bridge(self.client, leg.bridge_id, name=f"agent {agent_id}")
            await self.client.request(
                "POST", f"/channels/{leg.channel_id}",
                params={"endpoint": target, "app": self.settings.app,
                        "appArgs": f"agent,{agent_id}", "callerId": "Telemart <0>",
                        "timeout": int(self.settings.agent_ring_s)},
                body={"variables": {"TM_APP": self.settings.app}},
            )  # fmt: skip
        except (AriHttpError, TelephonyUnavailable) as exc:
            self._end_leg(leg, f"phone could not be called: {exc.detail}")

    async def detach_agent(self, agent_id: int) -> None:
        leg = self.lines.legs.get(agent_id)
        if leg is None or leg.ended:
            return
        leg.detaching = True
        await self.controls.stop_monitor(agent_id)
        if not await quietly(self.client, "DELETE", f"/channels/{leg.channel_id}"):
            self._end_leg(leg, "logout")

    async def _join_leg(self, leg: PhoneLeg) -> None:
        try:
            await self.client.request("POST", f"/bridges/{leg.bridge_id}/addChannel",
                                      params={"channel": leg.channel_id})
        except (AriHttpError, TelephonyUnavailable) as exc:
            log.warning("agent %s: phone leg could not join its bridge: %s", leg.agent_id, exc)
            await quietly(self.client, "DELETE", f"/channels/{leg.channel_id}")

    # -- call controls (port.CallControls) -------------------------------------------------
    async def hold(self, call_id: str) -> None:
        await self.controls.hold(call_id)

    async def resume(self, call_id: str) -> None:
        await self.controls.resume(call_id)

    async def mute(self, call_id: str, *, muted: bool) -> None:
        await self.controls.mute(call_id, muted=muted)

    async def transfer(self, call_id: str, *, to_agent_id: int) -> None:
        await self.controls.transfer(call_id, to_agent_id=to_agent_id)

    async def monitor(self, *, agent_id: int, supervisor_id: int, mode: MonitorMode) -> None:
        await self.controls.monitor(agent_id=agent_id, supervisor_id=supervisor_id, mode=mode)

    async def stop_monitor(self, supervisor_id: int) -> None:
        await self.controls.stop_monitor(supervisor_id)

    # -- events from Asterisk --------------------------------------------------------------
    def on_event(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type", "")
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(self, msg)
        elif kind not in stasis.IGNORED and kind not in self._unknown_seen:
            self._unknown_seen.add(kind)
            log.info("ARI event %r is not used by Telemart; ignored from now on", kind)

    def _on_dial(self, msg: dict[str, Any]) -> None:
        peer_id = (msg.get("peer") or {}).get("id", "")
        call = self.lines.calls.get(peer_id)
        if call is None:
            return
        status = msg.get("dialstatus", "")
        if status == "RINGING":
            self._ringing(peer_id, call, stasis.timestamp(msg))
        elif status in stasis.DIALSTATUS_CAUSE:
            call.dial_cause = stasis.DIALSTATUS_CAUSE[status]

    def _on_state(self, msg: dict[str, Any]) -> None:
        channel = msg.get("channel") or {}
        call = self.lines.calls.get(channel.get("id", ""))
        if call is None:
            return
        state = channel.get("state")
        if state in ("Ringing", "Ring"):
            self._ringing(channel["id"], call, stasis.timestamp(msg))
        elif state == "Up" and call.up_at is None:
            call.up_at = stasis.timestamp(msg)
            if call.ring_timer is not None:
                call.ring_timer.cancel()

    def _ringing(self, call_id: str, call: CallLine, at: dt.datetime) -> None:
        if not call.rang and not call.answered:
            call.rang = True
            self._emit(ev.Ringing(call_id=call_id, at=at))

    def _on_stasis_start(self, msg: dict[str, Any]) -> None:
        channel = msg.get("channel") or {}
        cid = channel.get("id", "")
        args = [str(a) for a in msg.get("args") or []]
        at = stasis.timestamp(msg)
        call = self.lines.calls.get(cid)
        if call is not None:
            if args[:1] == ["amd"]:
                kind = stasis.amd_kind(args[1] if len(args) > 1 else "")
                self._answered(cid, call, kind, at)
            elif not call.answered:
                self._on_answer(cid, call, at)
            return
        leg = self.lines.leg_by_channel.get(cid)
        if leg is not None:
            self.tasks.spawn(self._join_leg(leg), f"leg-{leg.agent_id}")
        elif cid in self.vad.channels:
            self.tasks.spawn(self.vad.join(cid), f"amd-join-{cid}")
        elif args[:1] == ["monitor"] and len(args) > 1 and args[1].isdigit():
            self.tasks.spawn(self.controls.join_monitor(cid, int(args[1])), f"monitor-{cid}")
        elif args[:1] == ["inbound"]:
            raw = str((channel.get("caller") or {}).get("number") or "")
            called = args[1] if len(args) > 1 else (channel.get("dialplan") or {}).get("exten", "")
            # Held like a call we dialled and that answered, so Dtmf, play, bridge and the
            # hang-up work on it as on any call (the sim carrier's inbound calls are the same)
            caller = normalize_e164(raw) if raw else None
            self.lines.calls[cid] = CallLine(
                request=Originate(call_id=cid, phone_e164=caller or "", max_ring_s=0.0),
                up_at=at)
            self.tasks.spawn(self._answer_inbound(cid, caller, str(called), at),
                             f"inbound-{cid}")
        else:
            log.info("channel %s entered Stasis with args %s: not ours, left alone", cid, args)

    async def _answer_inbound(self, call_id: str, caller: str | None, called: str,
                              at: dt.datetime) -> None:
        """Answer a caller the dialplan handed to Stasis; then report `InboundCall`."""
        try:
            await self.client.request("POST", f"/channels/{call_id}/answer")
        except (AriHttpError, TelephonyUnavailable) as exc:
            log.warning("inbound %s could not be answered: %s", call_id, exc)
            self.lines.calls.pop(call_id, None)  # never reported: nobody waits for its end
            await quietly(self.client, "DELETE", f"/channels/{call_id}")
            return
        call = self.lines.calls.get(call_id)
        if call is None:  # the caller hung up while being answered (HungUp was reported)
            return
        call.answered, call.answered_rx = True, time.perf_counter()
        self._emit(ev.InboundCall(call_id=call_id, caller_e164=caller, called=called, at=at))

    def _on_answer(self, call_id: str, call: CallLine, at: dt.datetime) -> None:
        call.answered_rx = time.perf_counter()
        if call.ring_timer is not None:
            call.ring_timer.cancel()
        if call.request.amd is AmdMode.ASTERISK:
            self.tasks.spawn(self._continue_to_amd(call_id), f"amd-{call_id}")
            return
        self._answered(call_id, call, AnswerKind.UNKNOWN, call.up_at or at)
        if call.request.amd is AmdMode.VAD:
            self.vad.start(call_id)

    def _answered(self, call_id: str, call: CallLine, kind: AnswerKind, at: dt.datetime) -> None:
        if call.answered:
            return
        call.answered = True
        if call.answered_rx is None or call.request.amd is AmdMode.ASTERISK:
            call.answered_rx = time.perf_counter()
        self._emit(ev.Answered(call_id=call_id, kind=kind, at=at))

    async def _continue_to_amd(self, call_id: str) -> None:
        try:
            await self.client.request(
                "POST", f"/channels/{call_id}/continue",
                params={"context": self.settings.amd_context, "extension": "s", "priority": 1})
        except (AriHttpError, TelephonyUnavailable) as exc:
            log.warning("AMD for %s could not start (%s): answered as unknown", call_id, exc)
            call = self.lines.calls.get(call_id)
            if call is not None:
                self._answered(call_id, call, AnswerKind.UNKNOWN, utcnow())

    def _vad_decided(self, call_id: str, decision: Decision) -> None:
        if call_id in self.lines.calls:
            self._emit(ev.AmdDecided(call_id=call_id, kind=decision.kind, at=utcnow(),
                                     detail=f"{decision.detail} ({decision.audio_ms} ms heard)"))

    def _on_entered_bridge(self, msg: dict[str, Any]) -> None:
        leg = self.lines.leg_by_channel.get((msg.get("channel") or {}).get("id", ""))
        if leg is not None and not leg.up and not leg.ended:
            leg.up = True
            self._emit(ev.AgentLegUp(agent_id=leg.agent_id, at=stasis.timestamp(msg)))

    def _on_hangup_request(self, msg: dict[str, Any]) -> None:
        call = self.lines.calls.get((msg.get("channel") or {}).get("id", ""))
        if call is not None and call.ended_by_us is None and msg.get("cause"):
            call.remote_cause = int(msg["cause"])

    def _on_destroyed(self, msg: dict[str, Any]) -> None:
        cid = (msg.get("channel") or {}).get("id", "")
        at = stasis.timestamp(msg)
        cause = int(msg.get("cause") or 0)
        call = self.lines.calls.get(cid)
        if call is not None:
            if call.ended_by_us is not None:
                side, cause = Side.DIALER, call.ended_by_us
            elif call.answered or call.up_at is not None:
                side, cause = Side.CUSTOMER, cause or Cause.NORMAL_CLEARING
            else:
                side = Side.NETWORK
                vague = cause in (0, Cause.NORMAL_CLEARING, Cause.NORMAL_UNSPECIFIED)
                if vague and call.dial_cause:
                    cause = call.dial_cause
                cause = cause or call.remote_cause or Cause.NORMAL_UNSPECIFIED
            self._end_call(cid, cause=cause, side=side, at=at)
            return
        leg = self.lines.leg_by_channel.get(cid)
        if leg is not None:
            reason = "logout" if leg.detaching else (msg.get("cause_txt") or f"cause {cause}")
            self._end_leg(leg, reason, at=at)
            return
        for supervisor, snoop in list(self.lines.monitors.items()):
            if snoop == cid:
                del self.lines.monitors[supervisor]

    def _on_playback_finished(self, msg: dict[str, Any]) -> None:
        found = self.lines.playbacks.pop((msg.get("playback") or {}).get("id", ""), None)
        if found is not None:
            self._emit(ev.PromptDone(call_id=found[0], prompt=found[1],
                                     at=stasis.timestamp(msg)))

    def _on_recording_finished(self, msg: dict[str, Any]) -> None:
        rec = msg.get("recording") or {}
        name = rec.get("name", "")
        call_id = self.lines.recordings.pop(name, None)
        if call_id is not None:
            self._emit(ev.RecordingDone(call_id=call_id, name=name,
                                        duration_s=float(rec.get("duration") or 0),
                                        at=stasis.timestamp(msg)))

    def _on_recording_failed(self, msg: dict[str, Any]) -> None:
        rec = msg.get("recording") or {}
        if self.lines.recordings.pop(rec.get("name", ""), None) is not None:
            log.warning("recording %s failed: %s", rec.get("name"), rec.get("cause"))

    def _on_dtmf(self, msg: dict[str, Any]) -> None:
        cid = (msg.get("channel") or {}).get("id", "")
        if cid in self.lines.calls:
            self._emit(ev.Dtmf(call_id=cid, digit=str(msg.get("digit", "")),
                               at=stasis.timestamp(msg)))

    def _on_replaced(self, msg: dict[str, Any]) -> None:
        log.error("another process connected as ARI application %r and took its events: "
                  "give every dialer process its own TELEMART_ARI_APP", self.settings.app)

    _handlers: ClassVar[dict[str, Callable[[AriPort, dict[str, Any]], None]]] = {
        "Dial": _on_dial,
        "ChannelStateChange": _on_state,
        "StasisStart": _on_stasis_start,
        "ChannelEnteredBridge": _on_entered_bridge,
        "ChannelHangupRequest": _on_hangup_request,
        "ChannelDestroyed": _on_destroyed,
        "PlaybackFinished": _on_playback_finished,
        "RecordingFinished": _on_recording_finished,
        "RecordingFailed": _on_recording_failed,
        "ChannelDtmfReceived": _on_dtmf,
        "ApplicationReplaced": _on_replaced,
    }

    # -- endings ---------------------------------------------------------------------------
    def _end_call(self, call_id: str, *, cause: int, side: Side, at: dt.datetime) -> None:
        call = self.lines.calls.get(call_id)
        if call is None:
            return
        if call.ring_timer is not None:
            call.ring_timer.cancel()
        self.vad.stop(call_id)
        self.recorder.stop(call_id)
        if call.held:
            self.controls.drop_hold_bridge(call_id)
        del self.lines.calls[call_id]
        for playback_id, (owner, prompt) in list(self.lines.playbacks.items()):
            if owner == call_id:
                del self.lines.playbacks[playback_id]
                self._emit(ev.PromptDone(call_id=call_id, prompt=prompt, at=at))
        self._emit(ev.HungUp(call_id=call_id, cause=int(cause), side=side, at=at))

    def _end_leg(self, leg: PhoneLeg, reason: str, *, at: dt.datetime | None = None) -> None:
        if leg.ended:
            return
        leg.ended, leg.up = True, False
        self.lines.leg_by_channel.pop(leg.channel_id, None)
        if self.lines.legs.get(leg.agent_id) is leg:
            del self.lines.legs[leg.agent_id]
        self.lines.monitors.pop(leg.agent_id, None)
        if leg.detaching:
            self.tasks.spawn(quietly(self.client, "DELETE", f"/bridges/{leg.bridge_id}"),
                             f"leg-end-{leg.agent_id}")
        self._emit(ev.AgentLegDown(agent_id=leg.agent_id, reason=reason, at=at or utcnow()))

    # -- reconnects ------------------------------------------------------------------------
    async def _on_connect(self, reconnect: bool) -> None:
        await self._filter_events()
        if reconnect:
            self.reconnects += 1
            await self.reconcile()

    async def _filter_events(self) -> None:
        """Ask Asterisk for the events we read only (a third of what it sends a call is
        ChannelVarset alone); an Asterisk without event filters sends everything."""
        try:
            await self.client.request(
                "PUT", f"/applications/{self.settings.app}/eventFilter",
                body={"allowed": [{"type": kind} for kind in sorted(self._handlers)]})
        except AriHttpError as exc:
            log.info("ARI event filter not set (%s): every event comes", exc)

    def _on_disconnect(self) -> None:
        log.warning("ARI events lost: no new calls until Asterisk is back (%d up)",
                    len(self.lines.calls))

    async def reconcile(self) -> None:
        """After a reconnect: what Asterisk has against what we believe live. A call or
        leg Asterisk no longer has ended while we were away; a call that answered or rang
        meanwhile is reported now."""
        present = {c["id"]: c for c in await self.client.request("GET", "/channels") or []}
        now = utcnow()
        for call_id, call in list(self.lines.calls.items()):
            channel = present.get(call_id)
            if channel is None:
                side = (Side.DIALER if call.ended_by_us is not None
                        else Side.CUSTOMER if call.answered else Side.NETWORK)
                cause = call.ended_by_us or call.dial_cause or Cause.NORMAL_UNSPECIFIED
                self._end_call(call_id, cause=cause, side=side, at=now)
            elif channel.get("state") == "Up" and not call.answered:
                in_amd = (channel.get("dialplan") or {}).get("context") == \
                    self.settings.amd_context
                call.up_at = call.up_at or now
                if not in_amd:
                    self._on_answer(call_id, call, now)
            elif channel.get("state") in ("Ringing", "Ring"):
                self._ringing(call_id, call, now)
        for leg in list(self.lines.legs.values()):
            if leg.channel_id not in present:
                self._end_leg(leg, "lost while Asterisk was unreachable", at=now)
            elif not leg.up and present[leg.channel_id].get("state") == "Up":
                await self._join_leg(leg)

    # -- small helpers ---------------------------------------------------------------------
    def media(self, prompt: str) -> str:
        return self.settings.sounds.format(prompt=prompt)

    async def _spoken(self, words: str, *, fallback: str) -> str:
        """The media URI of the words said, fetched from our speech server; the
        recording's (`fallback`) if they cannot be made."""
        assert self.speech is not None
        assert self.settings.speech_url is not None
        try:
            name = await self.speech.render(words)
        except SpeechError as exc:
            log.warning("words not said (%s): playing %s", exc, fallback)
            return fallback
        return f"sound:{self.settings.speech_url.rstrip('/')}{ROUTE.format(name=name)}"

    def _emit(self, event: ev.PortEvent) -> None:
        try:
            self._sink(event)
        except Exception:
            log.exception("the dialer failed on %s", type(event).__name__)


def dial_string(template: str, phone_e164: str) -> str:
    """The endpoint for a customer's number: `{number}` (E.164 digits, no '+'),
    `{e164}` (with '+'), `{national}` (a Korean number as dialled at home: 010...)."""
    digits = phone_e164.lstrip("+")
    national = "0" + digits[2:] if digits.startswith("82") else "00" + digits
    return template.format(number=digits, e164=phone_e164, national=national)
