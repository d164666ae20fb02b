"""Outbound calls, agents' phone legs, safe-harbor and AMD through the port's contract, on
the ARI fake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from config.settings import Settings
from dialer.core.calls import CallState
from dialer.errors import TelephonyConfigError
from dialer.telephony import events as ev
from dialer.telephony.ari import AriPort, dial_string, probe
from dialer.telephony.causes import unanswered_outcome
from dialer.telephony.events import AnswerKind, Side
from dialer.telephony.port import SAFE_HARBOR, AmdMode, Originate
from tests.fakes.ari import AriFake, Behaviour
from tests.integration.telephony.conftest import Recorder, greeting, settings_for

PHONE = "+821012345678"


def call(call_id: str, phone: str = PHONE, **kw: object) -> Originate:
    return Originate(call_id=call_id, phone_e164=phone, max_ring_s=kw.pop("max_ring_s", 5.0),  # type: ignore[arg-type]
                     **kw)  # type: ignore[arg-type]


async def test_wrong_password_is_a_clear_error(fake: AriFake) -> None:
    port = AriPort(settings_for(fake, password="wrong"))
    with pytest.raises(TelephonyConfigError, match="wrong user or password"):
        await port.open(Recorder())
    await port.close()


async def test_wrong_url_is_a_clear_error(fake: AriFake) -> None:
    port = AriPort(settings_for(fake, url=fake.url.replace("/ari", "/nothing")))
    with pytest.raises(TelephonyConfigError, match="must end in /ari"):
        await port.open(Recorder())
    await port.close()
    unused = AriPort(settings_for(fake, url="http://127.0.0.1:9/ari"))
    with pytest.raises(TelephonyConfigError, match="cannot reach ARI"):
        await unused.open(Recorder())
    await unused.close()


async def test_a_live_answer_rings_then_answers_on_our_channel_id(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    await port.originate(call("tm-c3-a41", caller_id="0212345678"))
    answered = await sink.wait(ev.Answered, "tm-c3-a41")
    assert answered.kind is AnswerKind.UNKNOWN  # AMD off: treated as live
    assert sink.of(ev.Ringing, "tm-c3-a41")
    assert sink.events.index(sink.of(ev.Ringing)[0]) < sink.events.index(answered)
    method, path, query = fake.calls_to("/channels/tm-c3-a41")[0]
    assert (method, path) == ("POST", "/ari/channels/tm-c3-a41")
    assert query["endpoint"] == "PJSIP/821012345678@carrier"
    assert query["callerId"] == "0212345678"
    assert query["app"] == "telemart-test"
    assert query["appArgs"] == "dial"
    assert fake.channels["tm-c3-a41"].state == "Up"


@pytest.mark.parametrize(
    ("fail", "cause", "outcome", "reason"),
    [
        ("BUSY", 17, CallState.BUSY, "busy"),
        ("CHANUNAVAIL", 1, CallState.FAILED, "unallocated"),
        ("BUSY", 21, CallState.BUSY, "rejected"),
        ("CONGESTION", 34, CallState.FAILED, "congestion"),
        ("CHANUNAVAIL", 38, CallState.FAILED, "network"),
        ("CONGESTION", 41, CallState.FAILED, "temporary_failure"),
        ("CONGESTION", 42, CallState.FAILED, "congestion"),
        ("CHANUNAVAIL", 127, CallState.FAILED, "failed"),
    ],
)
async def test_unanswered_causes_become_outcomes(
    fake: AriFake, port: AriPort, sink: Recorder, fail: str, cause: int, outcome: CallState,
    reason: str,
) -> None:
    fake.behaviours["821099990000"] = Behaviour(fail=fail, cause=cause)
    await port.originate(call("tm-c1-a1", "+821099990000"))
    hung = await sink.wait(ev.HungUp, "tm-c1-a1")
    assert (hung.cause, hung.side) == (cause, Side.NETWORK)
    found = unanswered_outcome(hung.cause)
    assert (found.outcome, found.reason) == (outcome, reason)
    assert not sink.of(ev.Answered)
    assert port.capacity() == port.settings.trunk_lines


async def test_busy_with_a_vague_cause_takes_the_dial_status(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    fake.behaviours["821099990001"] = Behaviour(fail="BUSY", cause=16)
    await port.originate(call("tm-c1-a2", "+821099990001"))
    hung = await sink.wait(ev.HungUp, "tm-c1-a2")
    assert hung.cause == 17


async def test_no_answer_is_hung_up_at_the_ring_timeout(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    fake.behaviours["821055550000"] = Behaviour(answer_s=None)
    await port.originate(call("tm-c1-a3", "+821055550000", max_ring_s=0.3))
    await sink.wait(ev.Ringing, "tm-c1-a3")
    hung = await sink.wait(ev.HungUp, "tm-c1-a3")
    assert (hung.cause, hung.side) == (19, Side.DIALER)
    assert unanswered_outcome(hung.cause).outcome is CallState.NO_ANSWER
    deletes = [q for m, p, q in fake.calls_to("/channels/tm-c1-a3") if m == "DELETE"]
    assert deletes == [{"reason_code": "19"}]


async def test_capacity_counts_calls_up(fake: AriFake, sink: Recorder) -> None:
    port = AriPort(settings_for(fake, trunk_lines=2))
    await port.open(sink)
    try:
        fake.behaviours["821055550001"] = Behaviour(answer_s=None)
        assert port.capacity() == 2
        await port.originate(call("tm-c1-a4", "+821055550001"))
        await port.originate(call("tm-c1-a5", "+821055550001"))
        assert port.capacity() == 0
        await port.hangup("tm-c1-a4")
        hung = await sink.wait(ev.HungUp, "tm-c1-a4")
        assert hung.side is Side.DIALER
        assert port.capacity() == 1
    finally:
        await port.close()


async def test_an_agent_leg_waits_in_its_bridge_and_a_live_answer_joins_it(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    await port.attach_agent(7, endpoint="agent7")
    await sink.wait(ev.AgentLegUp, where=lambda e: e.agent_id == 7)
    leg_ids = [c for c in fake.channels if c.startswith("tm-agent-7-")]
    assert len(leg_ids) == 1
    assert fake.channels[leg_ids[0]].endpoint == "PJSIP/agent7"
    assert fake.bridges["tm-agent-7"].channels == leg_ids

    await port.originate(call("tm-c2-a9"))
    await sink.wait(ev.Answered, "tm-c2-a9")
    await port.bridge("tm-c2-a9", agent_id=7)
    assert fake.bridges["tm-agent-7"].channels == [leg_ids[0], "tm-c2-a9"]
    assert not sink.of(ev.BridgeFailed)

    fake.remote_hangup("tm-c2-a9")  # the customer hangs up mid-call
    hung = await sink.wait(ev.HungUp, "tm-c2-a9")
    assert (hung.cause, hung.side) == (16, Side.CUSTOMER)
    assert fake.bridges["tm-agent-7"].channels == leg_ids  # the agent stays on the line


async def test_a_dropped_phone_leg_takes_the_agent_out(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    await port.attach_agent(8)
    await sink.wait(ev.AgentLegUp)
    leg = next(c for c in fake.channels if c.startswith("tm-agent-8-"))
    fake.remote_hangup(leg, 16)
    down = await sink.wait(ev.AgentLegDown)
    assert down.agent_id == 8
    assert down.reason == "Normal Clearing"
    await port.originate(call("tm-c2-a10"))
    await sink.wait(ev.Answered, "tm-c2-a10")
    await port.bridge("tm-c2-a10", agent_id=8)
    failed = await sink.wait(ev.BridgeFailed, "tm-c2-a10")
    assert failed.agent_id == 8
    assert "phone leg" in failed.reason


async def test_a_phone_that_does_not_answer_never_comes_up(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    fake.behaviours["agent9"] = Behaviour(fail="CHANUNAVAIL", cause=20)
    await port.attach_agent(9, endpoint="agent9")
    down = await sink.wait(ev.AgentLegDown)
    assert down.agent_id == 9
    assert not sink.of(ev.AgentLegUp)


async def test_logout_hangs_up_the_leg_and_removes_the_bridge(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    await port.attach_agent(3)
    await sink.wait(ev.AgentLegUp)
    await port.detach_agent(3)
    down = await sink.wait(ev.AgentLegDown)
    assert down.reason == "logout"
    await fake.until(lambda: "tm-agent-3" not in fake.bridges)
    assert not [c for c in fake.channels if c.startswith("tm-agent-3")]


async def test_safe_harbor_plays_the_prompt_then_hangs_up(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    await port.originate(call("tm-c5-a1"))
    await sink.wait(ev.Answered, "tm-c5-a1")
    await port.play("tm-c5-a1", SAFE_HARBOR)
    done = await sink.wait(ev.PromptDone, "tm-c5-a1")
    assert done.prompt == SAFE_HARBOR
    (_, _, query), = fake.calls_to("/channels/tm-c5-a1/play/")
    assert query == {"media": "sound:telemart/safe-harbor", "lang": "ko"}
    await port.hangup("tm-c5-a1")
    hung = await sink.wait(ev.HungUp, "tm-c5-a1")
    assert (hung.cause, hung.side) == (16, Side.DIALER)


@pytest.mark.parametrize(("status", "kind"), [("MACHINE", AnswerKind.MACHINE),
                                              ("HUMAN", AnswerKind.LIVE),
                                              ("NOTSURE", AnswerKind.UNKNOWN)])
async def test_amd_in_asterisk_reports_what_the_dialplan_decided(
    fake: AriFake, port: AriPort, sink: Recorder, status: str, kind: AnswerKind
) -> None:
    fake.behaviours["821077770000"] = Behaviour(amd=status, amd_cause=f"{status}-1500")
    await port.originate(call("tm-c6-a1", "+821077770000", amd=AmdMode.ASTERISK))
    answered = await sink.wait(ev.Answered, "tm-c6-a1")
    assert answered.kind is kind
    (_, _, query), = fake.calls_to("/channels/tm-c6-a1/continue")
    assert query == {"context": "telemart-amd", "extension": "s", "priority": "1"}


@pytest.mark.parametrize(("audio", "kind"), [("human-yeoboseyo", AnswerKind.LIVE),
                                             ("human-ne-yeoboseyo", AnswerKind.LIVE),
                                             ("machine-voicemail", AnswerKind.MACHINE)])
async def test_amd_vad_connects_first_and_decides_from_the_audio(
    fake: AriFake, port: AriPort, sink: Recorder, audio: str, kind: AnswerKind
) -> None:
    fake.behaviours["821066660000"] = Behaviour(audio=greeting(audio))
    await port.originate(call("tm-c7-a1", "+821066660000", amd=AmdMode.VAD))
    answered = await sink.wait(ev.Answered, "tm-c7-a1")
    assert answered.kind is AnswerKind.UNKNOWN  # connected at once, decided in parallel
    decided = await sink.wait(ev.AmdDecided, "tm-c7-a1")
    assert decided.kind is kind, decided.detail
    assert sink.events.index(answered) < sink.events.index(decided)
    (_, _, query), = fake.calls_to("/channels/externalMedia")
    assert query["format"] == "ulaw"
    assert query["external_host"].startswith("127.0.0.1:")
    (_, _, snoop), = fake.calls_to("/channels/tm-c7-a1/snoop/")
    assert snoop["spy"] == "in"
    await fake.until(lambda: "tm-amd-tm-c7-a1" not in fake.bridges  # AMD's parts go
                     and "tm-amdx-tm-c7-a1" not in fake.channels)
    assert fake.channels["tm-c7-a1"].state == "Up"  # the call itself goes on


def test_dial_strings() -> None:
    assert dial_string("PJSIP/{number}@carrier", "+821012345678") == \
        "PJSIP/821012345678@carrier"
    assert dial_string("PJSIP/{national}@kt", "+821012345678") == "PJSIP/01012345678@kt"
    assert dial_string("PJSIP/{national}@kt", "+14155550100") == "PJSIP/0014155550100@kt"
    assert dial_string("SIP/{e164}", "+821012345678") == "SIP/+821012345678"


async def test_the_driver_asks_only_for_the_events_it_reads(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    allowed = fake.filters["telemart-test"]
    assert {"StasisStart", "ChannelDestroyed", "Dial", "PlaybackFinished"} <= allowed
    assert "ChannelVarset" not in allowed
    assert "ChannelDialplan" not in allowed


async def test_close_leaves_nothing_behind(fake: AriFake, sink: Recorder) -> None:
    port = AriPort(settings_for(fake))
    await port.open(sink)
    await port.attach_agent(4)
    await sink.wait(ev.AgentLegUp)
    fake.behaviours["821055550009"] = Behaviour(answer_s=None)
    await port.originate(call("tm-c1-a9", "+821055550009"))
    await sink.wait(ev.Ringing, "tm-c1-a9")
    await port.close()
    assert fake.channels == {}
    assert fake.bridges == {}


async def test_probe_names_the_setting_to_fix(fake: AriFake) -> None:
    good = Settings(telephony="ari", ari_url=fake.url, ari_password=SecretStr("secret"))
    await probe(good)
    bad = Settings(telephony="ari", ari_url=fake.url, ari_password=SecretStr("nope"))
    with pytest.raises(TelephonyConfigError, match="TELEMART_ARI_PASSWORD"):
        await probe(bad)


def test_serve_with_a_wrong_ari_url_stops_with_a_clear_message(tmp_path: Path) -> None:
    env = {**os.environ, "TELEMART_TELEPHONY": "ari", "TELEMART_ARI_URL": "http://127.0.0.1:9/ari",
           "TELEMART_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "cli.main", "serve", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "error: " in done.stderr
    assert "cannot reach ARI at http://127.0.0.1:9/ari" in done.stderr
    assert "Traceback" not in done.stderr
