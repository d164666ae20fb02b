"""The sim carrier's prompts: `stop_prompts` cuts what a caller hears, and every `play()`
is still answered by one PromptDone (the ARS counts them)."""

from __future__ import annotations

import asyncio

from dialer.telephony.events import PortEvent, PromptDone
from dialer.telephony.sim import SimCarrier


class Heard:
    """The port's sink, keeping the PromptDones."""

    def __init__(self) -> None:
        self.done: list[PromptDone] = []
        self._changed = asyncio.Event()

    def __call__(self, event: PortEvent) -> None:
        if isinstance(event, PromptDone):
            self.done.append(event)
            self._changed.set()

    async def until(self, count: int) -> list[str]:
        async with asyncio.timeout(5.0):
            while len(self.done) < count:
                self._changed.clear()
                await self._changed.wait()
        return [e.prompt for e in self.done]


async def test_a_stopped_prompt_reports_done_at_once_and_its_timer_never_fires() -> None:
    heard = Heard()
    sim = SimCarrier(time_scale=0.01, prompt_s=4.0)  # a prompt lasts 40 ms here
    await sim.open(heard)
    cid = sim.ring_in(called="15881111", caller_e164="+821055501234")
    await sim.play(cid, "ars-welcome")
    await sim.play(cid, "ars-product")
    await sim.stop_prompts(cid)
    assert sim.stopped == [(cid, "ars-welcome"), (cid, "ars-product")]
    assert await heard.until(2) == ["ars-welcome", "ars-product"]
    # the next prompt is timed after the stopped ones and lasts as long: had their timers
    # run on, each would have reported done a second time before it
    await sim.play(cid, "ars-option")
    assert await heard.until(3) == ["ars-welcome", "ars-product", "ars-option"]
    assert not sim.calls[cid].saying
    await sim.close()


async def test_stopping_nothing_or_a_call_gone_is_quiet() -> None:
    heard = Heard()
    sim = SimCarrier(time_scale=0.01, prompt_s=4.0)
    await sim.open(heard)
    cid = sim.ring_in(called="15881111", caller_e164=None)
    await sim.stop_prompts(cid)  # nothing playing
    sim.hang_up_customer(cid)
    await sim.stop_prompts(cid)  # the caller is gone
    await sim.stop_prompts("never-was")
    assert sim.stopped == []
    await sim.play(cid, "ars-welcome")  # played on a call gone: done at once, as before
    assert await heard.until(1) == ["ars-welcome"]
    await sim.close()
