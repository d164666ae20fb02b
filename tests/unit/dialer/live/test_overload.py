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


def test_new_calls_are_set_up_at_most_so_many_a_second() -> None:
    now = [0.0]
    lag = LoopLag(dials_per_s=50, clock=lambda: now[0])
    assert lag.headroom(1000) == 50  # one second's worth at once, not the planner's 1,000
    lag.took(50)
    assert lag.headroom(1000) == 0
    now[0] += 0.1
    assert lag.headroom(1000) == 5
    assert lag.headroom(3) == 3  # never more than the free lines
    now[0] += 10
    assert lag.headroom(1000) == 50  # the budget does not pile up while idle
