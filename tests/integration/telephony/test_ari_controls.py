"""Recordings, call controls (hold, mute, transfer, listen/whisper/barge), reconnects and
the shape of events, on the ARI fake."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from dialer.errors import TelephonyError
from dialer.telephony import events as ev
from dialer.telephony.ari import AriPort
from dialer.telephony.ari.recordings import StoredRecordings
from dialer.telephony.ari.stasis import CallLine, PhoneLeg
from dialer.telephony.events import AnswerKind, Side
from dialer.telephony.port import AmdMode, MonitorMode, Originate
from tests.fakes.ari import AriFake, Behaviour
from tests.integration.telephony.conftest import Recorder, settings_for

CAPTURE = Path(__file__).parents[3].parent / "shared" / "telephony" / \
    "asterisk-22-ari-events.jsonl"


async def _agent(port: AriPort, sink: Recorder, agent_id: int) -> str:
    await port.attach_agent(agent_id)
    await sink.wait(ev.AgentLegUp, where=lambda e: e.agent_id == agent_id)
    return next(c for c in port.lines.leg_by_channel if c.startswith(f"tm-agent-{agent_id}-"))


async def _connected(port: AriPort, sink: Recorder, call_id: str, agent_id: int,
                     **kw: Any) -> None:
    await port.originate(Originate(call_id=call_id, phone_e164="+821012345678",
                                   max_ring_s=5.0, **kw))
    await sink.wait(ev.Answered, call_id)
    await port.bridge(call_id, agent_id=agent_id)


async def _port_until(check: Any, within: float = 5.0) -> None:
    """The port's own state has no event to wait on: look every few milliseconds."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def test_a_recorded_call_starts_with_the_announcement_and_is_named_by_attempt(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    await _agent(port, sink, 1)
    await _connected(port, sink, "tm-c4-a77", 1, record=True)
    await fake.until(lambda: fake.calls_to("/bridges/tm-agent-1/play"))
    (_, _, rec), = fake.calls_to("/bridges/tm-agent-1/record")
    assert rec["name"] == "tm-c4-a77"
    assert rec["format"] == "wav"
    (_, _, play), = fake.calls_to("/bridges/tm-agent-1/play")
    assert play["media"] == "sound:telemart/recording-notice"
    order = [p for _, p, _ in fake.requests]
    assert order.index("/ari/bridges/tm-agent-1/record") < \
        order.index("/ari/bridges/tm-agent-1/play")
    fake.remote_hangup("tm-c4-a77")
    done = await sink.wait(ev.RecordingDone, "tm-c4-a77")
    assert done.name == "tm-c4-a77"
    assert done.duration_s >= 1
    assert "tm-c4-a77" in fake.stored


async def test_an_unrecorded_call_records_nothing(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    await _agent(port, sink, 1)
    await _connected(port, sink, "tm-c4-a78", 1)
    await port.hangup("tm-c4-a78")
    await sink.wait(ev.HungUp, "tm-c4-a78")
    assert not fake.calls_to("/record")


async def test_hold_and_resume_move_the_caller_out_of_the_agents_bridge_and_back(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    leg = await _agent(port, sink, 2)
    await _connected(port, sink, "tm-c1-a5", 2)
    await port.hold("tm-c1-a5")
    assert fake.bridge_of("tm-c1-a5") == "tm-hold-tm-c1-a5"
    assert fake.bridges["tm-hold-tm-c1-a5"].type == "holding"
    assert fake.bridges["tm-hold-tm-c1-a5"].moh
    assert fake.bridges["tm-agent-2"].channels == [leg]
    await port.resume("tm-c1-a5")
    assert fake.bridges["tm-agent-2"].channels == [leg, "tm-c1-a5"]
    await fake.until(lambda: "tm-hold-tm-c1-a5" not in fake.bridges)


async def test_mute_silences_the_agent_toward_the_caller(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    leg = await _agent(port, sink, 3)
    await _connected(port, sink, "tm-c1-a6", 3)
    await port.mute("tm-c1-a6", muted=True)
    assert fake.channels[leg].muted == {"in"}
    await port.mute("tm-c1-a6", muted=False)
    assert fake.channels[leg].muted == set()


async def test_transfer_moves_the_caller_to_another_agents_bridge(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    await _agent(port, sink, 4)
    leg5 = await _agent(port, sink, 5)
    await _connected(port, sink, "tm-c1-a7", 4, record=True)
    await fake.until(lambda: fake.live_recordings)
    await port.transfer("tm-c1-a7", to_agent_id=5)
    assert fake.bridges["tm-agent-5"].channels == [leg5, "tm-c1-a7"]
    assert "tm-c1-a7" not in fake.bridges["tm-agent-4"].channels
    # the recording follows the caller: a second part on the new agent's bridge
    await fake.until(lambda: "tm-c1-a7-2" in fake.live_recordings)
    assert fake.live_recordings["tm-c1-a7-2"][0] == "tm-agent-5"
    with pytest.raises(TelephonyError, match="no phone leg"):
        await port.transfer("tm-c1-a7", to_agent_id=99)


async def test_controls_refuse_a_call_that_is_not_with_an_agent(
    port: AriPort, sink: Recorder
) -> None:
    await port.originate(Originate(call_id="tm-c1-a8", phone_e164="+821012345678",
                                   max_ring_s=5.0))
    await sink.wait(ev.Answered, "tm-c1-a8")
    for action in (port.hold("tm-c1-a8"), port.resume("tm-c1-a8"),
                   port.mute("tm-c1-a8", muted=True), port.hold("tm-nothing")):
        with pytest.raises(TelephonyError, match="not with an agent"):
            await action


@pytest.mark.parametrize(("mode", "whisper"), [(MonitorMode.LISTEN, "none"),
                                               (MonitorMode.WHISPER, "out"),
                                               (MonitorMode.BARGE, "both")])
async def test_a_supervisor_listens_whispers_or_barges_from_their_own_leg(
    fake: AriFake, port: AriPort, sink: Recorder, mode: MonitorMode, whisper: str
) -> None:
    agent_leg = await _agent(port, sink, 6)
    sup_leg = await _agent(port, sink, 100)  # a supervisor's phone, attached the same way
    await _connected(port, sink, "tm-c1-a9", 6)
    await port.monitor(agent_id=6, supervisor_id=100, mode=mode)
    snoop_id = port.lines.monitors[100]
    await fake.until(lambda: snoop_id in fake.bridges["tm-agent-100"].channels)
    snoop = fake.channels[snoop_id]
    assert (snoop.snoop_of, snoop.spy, snoop.whisper) == (agent_leg, "both", whisper)
    assert fake.bridges["tm-agent-100"].channels == [sup_leg, snoop_id]
    await port.stop_monitor(100)
    assert snoop_id not in fake.channels
    assert fake.bridges["tm-agent-6"].channels == [agent_leg, "tm-c1-a9"]


async def test_monitor_needs_the_supervisors_phone(port: AriPort, sink: Recorder) -> None:
    await _agent(port, sink, 6)
    with pytest.raises(TelephonyError, match="connect your phone first"):
        await port.monitor(agent_id=6, supervisor_id=101, mode=MonitorMode.LISTEN)


async def test_after_a_reconnect_the_driver_reconciles_with_asterisk(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    leg = await _agent(port, sink, 11)
    await _agent(port, sink, 12)
    fake.behaviours["821011110000"] = Behaviour(answer_s=None)
    for cid in ("tm-c9-a1", "tm-c9-a2", "tm-c9-a3"):
        await port.originate(Originate(call_id=cid, phone_e164="+821011110000",
                                       max_ring_s=30.0))
        await sink.wait(ev.Ringing, cid)
    fake.refuse_events = True
    await fake.drop_events()
    await _port_until(lambda: port.capacity() == 0)  # nothing is dialled blind
    fake.vanish("tm-c9-a1")  # the customer gave up while we were away
    fake.answer_quietly("tm-c9-a2")  # ... answered while we were away
    fake.vanish(leg)  # agent 11's phone dropped meanwhile
    fake.refuse_events = False
    await _port_until(lambda: port.reconnects == 1)
    hung = await sink.wait(ev.HungUp, "tm-c9-a1")
    assert hung.side is Side.NETWORK
    answered = await sink.wait(ev.Answered, "tm-c9-a2")
    assert answered.kind is AnswerKind.UNKNOWN
    down = await sink.wait(ev.AgentLegDown)
    assert down.agent_id == 11
    assert not sink.of(ev.HungUp, "tm-c9-a3")
    assert port.capacity() == port.settings.trunk_lines - 2
    # and events flow again
    fake.remote_hangup("tm-c9-a3", 17)
    assert (await sink.wait(ev.HungUp, "tm-c9-a3")).cause == 17


async def test_unknown_events_are_logged_once_and_ignored(
    fake: AriFake, port: AriPort, sink: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dialer.telephony.ari.driver")
    fake.filters.clear()  # an Asterisk without event filters sends everything
    for _ in range(3):
        fake.emit_raw({"type": "SomethingAsterisk23Adds", "timestamp": "x"})
    await port.originate(Originate(call_id="tm-c1-a99", phone_e164="+821012345678",
                                   max_ring_s=5.0))
    await sink.wait(ev.Answered, "tm-c1-a99")
    said = [r for r in caplog.records if "SomethingAsterisk23Adds" in r.getMessage()]
    assert len(said) == 1


async def test_another_process_taking_the_app_is_reported(
    fake: AriFake, port: AriPort, sink: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    other = AriPort(settings_for(fake))
    await other.open(Recorder())
    try:
        await _port_until(lambda: any("its own TELEMART_ARI_APP" in r.getMessage()
                                      for r in caplog.records))
    finally:
        await other.close()


def _capture() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CAPTURE.read_text().splitlines() if line.strip()]


@pytest.mark.skipif(not CAPTURE.exists(), reason="../shared/telephony is not beside the repo")
async def test_the_real_capture_reads_as_the_port_events_it_means() -> None:
    """Replay what a real Asterisk 22.10.1 sent (AMD machine, AMD human bridged and
    recorded, AMD human with safe-harbor) through the driver's event handling."""
    sink = Recorder()
    port = AriPort(settings_for(AriFake()))
    port._sink = sink
    lines = port.lines
    for cid in ("c-am-1", "c-human-1", "c-human-2"):
        lines.calls[cid] = CallLine(request=Originate(call_id=cid, phone_e164="+8212345678",
                                                      max_ring_s=30, amd=AmdMode.ASTERISK))
    lines.add_leg(PhoneLeg(agent_id=1, channel_id="agent-agent1", bridge_id="agent1"))
    lines.playbacks["sh-c-human-2"] = ("c-human-2", "safe-harbor")
    lines.recordings["rec-c-human-1"] = "c-human-1"
    port.tasks.spawn = lambda coro, name: coro.close()  # type: ignore[method-assign]
    for event in _capture():
        port.on_event(event)
    got = [(type(e).__name__, getattr(e, "call_id", getattr(e, "agent_id", None)),
            getattr(e, "kind", getattr(e, "side", getattr(e, "prompt", None))))
           for e in sink.events]
    assert got == [
        ("AgentLegUp", 1, None),
        ("Ringing", "c-am-1", None),
        ("Answered", "c-am-1", AnswerKind.MACHINE),
        ("HungUp", "c-am-1", Side.CUSTOMER),
        ("Ringing", "c-human-1", None),
        ("Answered", "c-human-1", AnswerKind.LIVE),
        ("RecordingDone", "c-human-1", None),
        ("Ringing", "c-human-2", None),
        ("HungUp", "c-human-1", Side.CUSTOMER),
        ("Answered", "c-human-2", AnswerKind.LIVE),
        ("PromptDone", "c-human-2", "safe-harbor"),
        ("HungUp", "c-human-2", Side.CUSTOMER),
        ("AgentLegDown", 1, None),
    ]
    answered = sink.of(ev.Answered, "c-am-1")[0]
    assert answered.at.isoformat() == "2026-12-03T07:02:28.538000+00:00"


@pytest.mark.skipif(not CAPTURE.exists(), reason="../shared/telephony is not beside the repo")
async def test_the_fake_speaks_like_the_capture(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    """Every event type the fake sends has the fields the real one has."""
    await _agent(port, sink, 1)
    fake.behaviours["821022220000"] = Behaviour(amd="MACHINE")
    await port.originate(Originate(call_id="tm-c1-am", phone_e164="+821022220000",
                                   max_ring_s=5.0, amd=AmdMode.ASTERISK))
    await sink.wait(ev.Answered, "tm-c1-am")
    await _connected(port, sink, "tm-c1-h", 1, record=True)
    await port.play("tm-c1-h", "safe-harbor")
    await sink.wait(ev.PromptDone, "tm-c1-h")
    await fake.until(lambda: fake.live_recordings)
    await port.hangup("tm-c1-h")
    await port.hangup("tm-c1-am")
    await sink.wait(ev.RecordingDone, "tm-c1-h")
    await port.detach_agent(1)
    await sink.wait(ev.AgentLegDown)
    real: dict[str, set[str]] = {}
    for event in _capture():
        real.setdefault(event["type"], set()).update(event)
    ours: dict[str, set[str]] = {}
    for event in fake.sent:
        ours.setdefault(event["type"], set()).update(event)
    shared = set(real) & set(ours)
    assert {"Dial", "StasisStart", "ChannelDestroyed", "ChannelEnteredBridge",
            "PlaybackFinished", "RecordingFinished", "ChannelHangupRequest"} <= shared
    for kind in shared:
        assert real[kind] - ours[kind] == set(), kind
    real_channel = set(_capture()[0]["peer"])
    for event in fake.sent:
        for key in ("channel", "peer"):
            if key in event:
                assert real_channel <= set(event[key]), event["type"]


async def test_stored_recordings_are_read_and_deleted_over_ari(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    await _agent(port, sink, 1)
    await _connected(port, sink, "tm-c4-a80", 1, record=True)
    await fake.until(lambda: fake.live_recordings)
    await port.hangup("tm-c4-a80")
    await sink.wait(ev.RecordingDone, "tm-c4-a80")
    stored = StoredRecordings(port.client)
    audio = await stored.audio("tm-c4-a80")
    assert audio is not None
    assert audio[:4] == b"RIFF"
    assert await stored.delete("tm-c4-a80") is True
    assert await stored.delete("tm-c4-a80") is False
    assert await stored.audio("tm-c4-a80") is None
