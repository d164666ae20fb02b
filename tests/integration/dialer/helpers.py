"""Helpers for the live dialer's tests: a scripted carrier, waiting for messages and calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from dialer.sim.scenario import Scenario, parse_scenario

TIMEOUT_S = 10.0


def scenario(*, live: float = 1.0, machine: float = 0.0, answer_after_s: float = 1.0) -> Scenario:
    """A carrier where `live` of the dials reach a person after `answer_after_s`."""
    return parse_scenario({
        "name": "test", "duration_s": 60, "seed": 3,
        "staffing": {"agents": 1},
        "callee": {"live": live, "machine": machine, "busy": 0.0, "failed": 0.0,
                   "answer_after_s": answer_after_s},
        "agent": {"talk_s": 10.0},
    })  # fmt: skip


async def receive_until(
    ws: ClientWebSocketResponse, pred: Callable[[dict[str, Any]], bool],
    timeout_s: float = TIMEOUT_S,
) -> dict[str, Any]:
    """The next message matching `pred` (others are skipped); fails after the timeout."""
    async with asyncio.timeout(timeout_s):
        while True:
            msg = await ws.receive()
            data: dict[str, Any] = json.loads(msg.data)
            if pred(data):
                return data


async def calls_settled(client: TestClient, attempt_ids: list[int]) -> None:  # type: ignore[type-arg]
    """Wait for these calls' tasks to finish writing (they end after the disposition)."""
    from server.keys import LIVE

    runtime = client.app[LIVE].runtime
    assert runtime is not None
    tasks = [t for a in attempt_ids if (t := runtime.tasks.get(a)) is not None]
    async with asyncio.timeout(TIMEOUT_S):
        await asyncio.gather(*tasks)
