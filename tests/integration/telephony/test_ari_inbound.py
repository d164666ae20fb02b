"""An inbound caller handed over by Asterisk's dialplan (`Stasis(telemart,inbound,EXTEN)`)
becomes the same port events as the sim carrier's inbound calls: answered and held,
`InboundCall` with the caller in E.164 and the number dialled, then keys, prompts, the
bridge to an agent and the hang-up as on any call."""

from __future__ import annotations

import asyncio

from dialer.telephony import events as ev
from dialer.telephony.ari import AriPort
from dialer.telephony.events import Side
from tests.fakes.ari import AriFake
from tests.integration.telephony.conftest import Recorder


async def test_a_caller_from_the_dialplan_is_answered_held_and_reported(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    cid = fake.incoming(caller="010-1234-5678", exten="15880000")
    inbound = await sink.wait(ev.InboundCall, cid)
    assert (inbound.caller_e164, inbound.called) == ("+821012345678", "15880000")
    assert fake.channels[cid].state == "Up"  # answered before it was reported
    assert [m for m, _, _ in fake.calls_to(f"/channels/{cid}/answer")] == ["POST"]
    fake.dtmf(cid, "1")
    assert (await sink.wait(ev.Dtmf, cid)).digit == "1"
    await port.play(cid, "queue-position-1")
    assert (await sink.wait(ev.PromptDone, cid)).prompt == "queue-position-1"
    await port.attach_agent(4)
    await sink.wait(ev.AgentLegUp, where=lambda e: e.agent_id == 4)
    await port.bridge(cid, agent_id=4)
    assert fake.bridge_of(cid) == "tm-agent-4"
    assert not sink.of(ev.BridgeFailed)
    fake.remote_hangup(cid)
    hung = await sink.wait(ev.HungUp, cid)
    assert hung.side is Side.CUSTOMER
    assert cid not in port.lines.calls


async def test_a_withheld_number_and_a_caller_gone_before_the_answer(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    withheld = fake.incoming(caller="", exten="15889999")
    inbound = await sink.wait(ev.InboundCall, withheld)
    assert inbound.caller_e164 is None
    gone = fake.incoming(caller="01099998888", exten="15880000")
    fake.vanish(gone)  # the answer finds no channel: nothing is reported for it
    async with asyncio.timeout(5.0):  # the refused answer sends no event to wait on
        while not fake.calls_to(f"/channels/{gone}/answer") or gone in port.lines.calls:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    await port.hangup(withheld)
    await sink.wait(ev.HungUp, withheld)
    assert not sink.of(ev.InboundCall, gone)
    assert gone not in port.lines.calls


async def test_a_caller_hearing_a_prompt_reaches_the_agent_at_once(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    # Asterisk adds a channel to a bridge only once the playback under way on it ends: on
    # 22.10.1 a caller who pressed 0 during the ARS welcome was bridged 8.7 s later
    fake.prompt_s = 3.0
    cid = fake.incoming(caller="01012345678", exten="15881111")
    await sink.wait(ev.InboundCall, cid)
    await port.attach_agent(4)
    await sink.wait(ev.AgentLegUp, where=lambda e: e.agent_id == 4)
    await port.play(cid, "ars-welcome")
    await port.play(cid, "ars-product")  # queued behind the welcome
    started = asyncio.get_running_loop().time()
    await port.bridge(cid, agent_id=4)
    assert asyncio.get_running_loop().time() - started < 1.0
    assert fake.bridge_of(cid) == "tm-agent-4"
    assert not sink.of(ev.BridgeFailed)
    # both prompts are over for the port: nothing waits on them
    done = [e.prompt for e in sink.of(ev.PromptDone, cid)]
    assert sorted(done) == ["ars-product", "ars-welcome"]
    assert not port.lines.playbacks


def _playback_events(fake: AriFake, kind: str) -> list[tuple[str, str, str]]:
    """(playback id, prompt, state) of the fake's `kind` events, in the order sent."""
    return [
        (e["playback"]["id"], e["playback"]["media_uri"].rsplit("/", 1)[-1], e["playback"]["state"])
        for e in fake.sent
        if e["type"] == kind
    ]


async def test_a_key_stops_the_prompts_and_the_answer_is_heard_at_once(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    # Asterisk queues a channel's playbacks: without a stop the answer to a key waits for
    # the rest of the words before it
    fake.prompt_s = 5.0
    cid = fake.incoming(caller="01055501234", exten="15881111")
    await sink.wait(ev.InboundCall, cid)
    await port.play(cid, "ars-welcome")
    await port.play(cid, "ars-product")  # queued behind the welcome
    ids = {prompt: pb for pb, (_, prompt) in port.lines.playbacks.items()}
    await port.stop_prompts(cid)
    deleted = [path for method, path, _ in fake.requests if method == "DELETE"]
    assert sorted(deleted) == sorted(f"/ari/playbacks/{pb}" for pb in ids.values())
    await sink.wait(ev.PromptDone, cid, where=lambda e: e.prompt == "ars-product")
    # each ends as Asterisk ends it: the welcome stopped, the product cancelled unheard
    assert _playback_events(fake, "PlaybackStarted") == [
        (ids["ars-welcome"], "ars-welcome", "playing")
    ]
    assert sorted(_playback_events(fake, "PlaybackFinished")) == sorted(
        (pb, prompt, "done") for prompt, pb in ids.items()
    )
    assert not port.lines.playbacks
    await port.play(cid, "ars-option")
    started = asyncio.get_running_loop().time()
    await fake.until(
        lambda: any(p == "ars-option" for _, p, _ in _playback_events(fake, "PlaybackStarted"))
    )
    assert asyncio.get_running_loop().time() - started < 1.0  # not after the 5 s welcome
    await port.stop_prompts(cid)
    fake.remote_hangup(cid)
    await sink.wait(ev.HungUp, cid)
    await port.stop_prompts(cid)  # the caller is gone: nothing to stop, nothing raised
    # one PromptDone for every play(), stopped or not
    assert sorted(e.prompt for e in sink.of(ev.PromptDone, cid)) == [
        "ars-option",
        "ars-product",
        "ars-welcome",
    ]


async def test_a_playback_over_while_its_event_was_lost_is_reported_by_the_stop(
    fake: AriFake, port: AriPort, sink: Recorder
) -> None:
    cid = fake.incoming(caller="01055501234", exten="15881111")
    await sink.wait(ev.InboundCall, cid)
    # a playback Asterisk finished while the events socket was down: the driver still
    # holds it, Asterisk answers its DELETE with a 404
    port.lines.playbacks["tm-pb-lost"] = (cid, "queue-wait-2-min")
    await port.stop_prompts(cid)
    assert [p for m, p, _ in fake.requests if m == "DELETE"] == ["/ari/playbacks/tm-pb-lost"]
    assert [e.prompt for e in sink.of(ev.PromptDone, cid)] == ["queue-wait-2-min"]
    assert not port.lines.playbacks
