"""A process whose event loop lags places no new calls until it catches up."""

from __future__ import annotations

import asyncio
import time

from dialer.live.overload import LoopLag


async def test_a_blocked_loop_is_behind_then_catches_up() -> None:
    lag = LoopLag(probe_s=0.01, limit_s=0.1)
    lag.start()
    try:
        await asyncio.sleep(0.05)
        time.sleep(0.5)  # noqa: ASYNC251 -- the loop is held, as a flood of work holds it
        await asyncio.sleep(0.02)
        assert lag.behind()
        async with asyncio.timeout(5):
            while lag.behind():  # noqa: ASYNC110 -- polling is the thing tested
                await asyncio.sleep(0.01)
        assert lag.held >= 1
    finally:
        await lag.stop()
