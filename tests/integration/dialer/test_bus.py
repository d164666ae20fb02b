"""The agent bus: in-process and over a real NATS server, the same behaviour."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from config.scratch import free_port
from dialer.live.bus import DESK_ANY, Bus, LocalBus, NoDesk, agent_subject, desk_subject
from dialer.live.nats_bus import NatsBus, NatsUnreachable, probe
from dialer.live.throttle import LogThrottle


@pytest.fixture(params=["local", "nats"])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bus, Bus]]:
    """Two ends of one bus: one process's, or two NATS clients (two processes')."""
    if request.param == "local":
        bus = LocalBus()
        yield bus, bus
        return
    url = request.getfixturevalue("nats_url")
    a, b = NatsBus(url), NatsBus(url)
    await a.open()
    await b.open()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_messages_to_an_agent_arrive_in_order(buses: tuple[Bus, Bus]) -> None:
    edge, desk = buses
    got: list[bytes] = []
    done = asyncio.Event()

    def listen(data: bytes) -> None:
        got.append(data)
        if len(got) == 100:
            done.set()

    unsubscribe = await edge.subscribe(agent_subject(7), listen)
    if isinstance(edge, NatsBus):
        await asyncio.sleep(0.1)  # the subscription reaches the server
    for i in range(100):
        desk.publish(agent_subject(7), str(i).encode())
    async with asyncio.timeout(10):
        await done.wait()
    assert got == [str(i).encode() for i in range(100)]
    await unsubscribe()


async def test_requests_reach_the_desk_of_the_campaign_or_say_none_runs_it(
    buses: tuple[Bus, Bus],
) -> None:
    edge, desk = buses

    async def answer(data: bytes) -> bytes:
        return b"desk 3 got " + data

    with pytest.raises(NoDesk):
        await edge.request(desk_subject(3), b"hello", timeout_s=2)
    unserve = await desk.serve(desk_subject(3), answer)
    if isinstance(desk, NatsBus):
        await asyncio.sleep(0.1)
    assert await edge.request(desk_subject(3), b"hello", timeout_s=2) == b"desk 3 got hello"
    await unserve()
    if isinstance(desk, NatsBus):
        await asyncio.sleep(0.1)
    with pytest.raises(NoDesk):
        await edge.request(desk_subject(3), b"hello", timeout_s=2)


async def test_the_in_process_desk_serves_every_campaign() -> None:
    bus = LocalBus()

    async def answer(data: bytes) -> bytes:
        return data.upper()

    await bus.serve(desk_subject(DESK_ANY), answer)
    assert await bus.request(desk_subject(41), b"ready", timeout_s=1) == b"READY"


async def test_a_nats_url_that_does_not_answer_is_reported() -> None:
    with pytest.raises(NatsUnreachable, match="does not answer"):
        await probe(f"nats://127.0.0.1:{free_port()}")


def test_repeated_log_lines_are_written_once_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr("dialer.live.throttle.time.monotonic", lambda: now[0])
    throttle = LogThrottle(logging.getLogger("test.throttle"), every_s=30)
    with caplog.at_level(logging.WARNING, logger="test.throttle"):
        for _ in range(50):  # an outage: 50 failures within the interval
            throttle.warning("db", "database down")
        now[0] += 31
        throttle.warning("db", "database down")
        throttle.clear("db")  # it came back: the next failure is written at once
        throttle.warning("db", "database down")
    assert [r.getMessage() for r in caplog.records] == [
        "database down", "database down (49 more like this in the last 30 s)",
        "database down"]
