"""Simulated agents inside the dialer process: they acknowledge each pop, talk for a
(scaled) talk time, wrap up and set a disposition. For `telemart dialer --sim-agents` and
demos; the connect benchmark drives its agents over real websockets instead."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from dialer.live.desk import LiveDesk, Message
from dialer.live.outcomes import DispositionEntry
from dialer.live.runtime import DialerRuntime
from dialer.sim.scenario import Dist


class SimulatedAgents:
    def __init__(
        self,
        runtime: DialerRuntime,
        *,
        count: int,
        campaign_id: int,
        seed: int = 1,
        time_scale: float = 1.0,
        talk: Dist | None = None,
        wrap: Dist | None = None,
        first_id: int = 1_000_000,
    ) -> None:
        self.rt = runtime
        self.desk: LiveDesk = runtime.desk
        self.rng = random.Random(f"{seed}:sim-agents")
        self.time_scale = time_scale
        self.talk = talk or Dist(kind="fixed", mean=60.0, sd=0.0)
        self.wrap = wrap or Dist(kind="fixed", mean=10.0, sd=0.0)
        self.ids = [first_id + i for i in range(count)]
        self.campaign_id = campaign_id
        self.tasks: set[asyncio.Task[None]] = set()
        self.handled = 0
        self._progress = asyncio.Condition()
        self._forward = self.desk.send
        self.desk.send = self._send

    def log_in(self) -> None:
        for agent_id in self.ids:
            self.desk.attach(agent_id, f"sim-{agent_id}")
            self.desk.ready(agent_id, campaign_id=self.campaign_id)

    def _send(self, agent_id: int, message: Message) -> None:
        if agent_id not in self.ids:
            self._forward(agent_id, message)
            return
        if message.get("type") == "pop":
            task = asyncio.create_task(self._handle(agent_id, int(message["attempt_id"])))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _handle(self, agent_id: int, attempt_id: int) -> None:
        self.desk.ack(agent_id, attempt_id)
        await asyncio.sleep(self.talk.sample(self.rng) * self.time_scale)
        if self.desk.call_of(attempt_id) is not None:  # not ended by the customer
            self.desk.hangup(agent_id, attempt_id)
        await asyncio.sleep(self.wrap.sample(self.rng) * self.time_scale)
        code = "sale" if self.rng.random() < 0.2 else "no_sale"
        if self.desk.call_of(attempt_id) is not None:
            self.rt.dispose(DispositionEntry(code=code, agent_id=agent_id),
                            attempt_id=attempt_id)
        self.handled += 1
        async with self._progress:
            self._progress.notify_all()

    async def wait_handled(self, count: int) -> None:
        """Until these agents have dispositioned `count` calls."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.handled >= count)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def stats(self) -> dict[str, Any]:
        return {"agents": len(self.ids), "handled": self.handled}
