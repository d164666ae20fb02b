"""Strategies that need no model: preview, progressive and a fixed ratio."""

from __future__ import annotations

import math

from dialer.core.pacing.base import PacingStrategy, Snapshot


class Preview(PacingStrategy):
    """The agent asks for each call: one dial per ready agent, who waits on it."""

    name = "preview"
    dedicated_agent = True

    def calls_to_place(self, snapshot: Snapshot) -> int:
        # Each call in flight already holds one ready agent (see `dedicated_agent`).
        return len(snapshot.ready_s)


class Progressive(PacingStrategy):
    """One line per free agent: no live answer ever finds every agent busy. An agent who
    leaves within the ring timeout is not free."""

    name = "progressive"

    def calls_to_place(self, snapshot: Snapshot) -> int:
        return snapshot.free_lines


def dial_level_calls(snapshot: Snapshot, level: float) -> int:
    """VICIdial's goal-calls rule: level x (ready + talking agents) less the calls that
    already exist (ringing, waiting for an agent, or connected to one). Agents about to
    leave (a break or logout within the dial horizon) and their calls are left out."""
    on_call = snapshot.on_call_staying
    agents = snapshot.ready_staying + snapshot.reserved + on_call
    goal = math.floor(level * agents + 0.5)
    existing = len(snapshot.ringing_s) + len(snapshot.waiting_s) + snapshot.reserved + on_call
    return max(0, goal - existing)


class Ratio(PacingStrategy):
    """A fixed number of lines per agent (VICIdial's RATIO dial method)."""

    name = "ratio"

    def calls_to_place(self, snapshot: Snapshot) -> int:
        return dial_level_calls(snapshot, self.settings.dial_ratio)
