"""What agents and supervisors do to a bridged call: hold, mute, transfer, and listen,
whisper or barge through a snoop on the agent's phone leg."""

from __future__ import annotations

import contextlib

from dialer.errors import TelephonyError
from dialer.telephony.ari.client import AriClient, AriHttpError
from dialer.telephony.ari.recordings import Recorder
from dialer.telephony.ari.stasis import Lines, Tasks, ensure_bridge, quietly
from dialer.telephony.port import MonitorMode

# Snooping on the agent's channel: `spy` both ways hears the agent and the caller;
# `whisper` out reaches the agent's ear only, both also the caller's.
WHISPER = {MonitorMode.LISTEN: "none", MonitorMode.WHISPER: "out", MonitorMode.BARGE: "both"}


def hold_bridge(call_id: str) -> str:
    return f"tm-hold-{call_id}"


class Controls:
    def __init__(self, client: AriClient, lines: Lines, tasks: Tasks, recorder: Recorder,
                 *, app: str) -> None:
        self.client, self.lines, self.tasks, self.recorder = client, lines, tasks, recorder
        self.app = app

    async def hold(self, call_id: str) -> None:
        call, _ = self.lines.bridged(call_id)
        if call.held:
            return
        await ensure_bridge(self.client, hold_bridge(call_id), name=f"hold {call_id}",
                            kind="holding")
        # adding to another bridge takes the caller out of the agent's
        await self.client.request("POST", f"/bridges/{hold_bridge(call_id)}/addChannel",
                                  params={"channel": call_id, "role": "participant"})
        call.held = True
        with contextlib.suppress(AriHttpError):  # no music configured: the caller hears silence
            await self.client.request("POST", f"/bridges/{hold_bridge(call_id)}/moh")

    async def resume(self, call_id: str) -> None:
        call, leg = self.lines.bridged(call_id)
        if not call.held:
            return
        await self.client.request("POST", f"/bridges/{leg.bridge_id}/addChannel",
                                  params={"channel": call_id})
        call.held = False
        self.drop_hold_bridge(call_id)

    def drop_hold_bridge(self, call_id: str) -> None:
        self.tasks.spawn(quietly(self.client, "DELETE", f"/bridges/{hold_bridge(call_id)}"),
                         f"unhold-{call_id}")

    async def mute(self, call_id: str, *, muted: bool) -> None:
        call, leg = self.lines.bridged(call_id)
        await self.client.request("POST" if muted else "DELETE",
                                  f"/channels/{leg.channel_id}/mute", params={"direction": "in"})
        call.muted = muted

    async def transfer(self, call_id: str, *, to_agent_id: int) -> None:
        call, leg = self.lines.bridged(call_id)
        target = self.lines.leg_up(to_agent_id, f"agent {to_agent_id} has no phone leg")
        if to_agent_id == leg.agent_id:
            raise TelephonyError("a call cannot be transferred to the agent who has it")
        if call.muted:
            await self.mute(call_id, muted=False)
        await self.client.request("POST", f"/bridges/{target.bridge_id}/addChannel",
                                  params={"channel": call_id})
        was_held = call.held
        call.agent_id, call.held = to_agent_id, False
        if was_held:
            self.drop_hold_bridge(call_id)
        if call.recording is not None:
            self.recorder.follow(call_id, target.bridge_id)

    async def monitor(self, *, agent_id: int, supervisor_id: int, mode: MonitorMode) -> None:
        agent = self.lines.leg_up(agent_id, f"agent {agent_id} has no phone leg")
        self.lines.leg_up(supervisor_id, "connect your phone first (the supervisor's leg is down)",
                          code="supervisor_phone_down")
        await self.stop_monitor(supervisor_id)
        snoop_id = self.lines.new_id(f"tm-spy-{supervisor_id}-")
        self.lines.monitors[supervisor_id] = snoop_id
        await self.client.request(
            "POST", f"/channels/{agent.channel_id}/snoop/{snoop_id}",
            params={"spy": "both", "whisper": WHISPER[mode], "app": self.app,
                    "appArgs": f"monitor,{supervisor_id}"})

    async def stop_monitor(self, supervisor_id: int) -> None:
        snoop_id = self.lines.monitors.pop(supervisor_id, None)
        if snoop_id is not None:
            await quietly(self.client, "DELETE", f"/channels/{snoop_id}")

    async def join_monitor(self, snoop_id: str, supervisor_id: int) -> None:
        """The snoop channel is in Stasis: put it in the supervisor's bridge."""
        leg = self.lines.legs.get(supervisor_id)
        if leg is None or self.lines.monitors.get(supervisor_id) != snoop_id:
            await quietly(self.client, "DELETE", f"/channels/{snoop_id}")
            return
        await quietly(self.client, "POST", f"/bridges/{leg.bridge_id}/addChannel",
                      {"channel": snoop_id})
