"""Abandon rate over a rolling window, and the cap every dial is held to.

Times are float seconds on one clock (epoch seconds in the live dialer, virtual seconds in
the simulator). US mode: rate = abandoned / live answers. UK (Ofcom) mode estimates the
live answers hidden among answering-machine detections:
D' = D - D*Ag/(Ag+L), rate = D'/(D'+L), with D abandoned, Ag machine-detected and L live
calls connected to an agent (COMPLIANCE.md gives the formula; we apply it as written).
"""

from __future__ import annotations

import collections
import dataclasses
import enum

DAY_S = 86_400.0
US_WINDOW_S = 30 * DAY_S
UK_WINDOW_S = DAY_S


class AnswerKind(enum.Enum):
    __hash__ = object.__hash__  # members are singletons: hash by identity (fast)

    CONNECTED = "connected"  # live answer that reached an agent in time
    ABANDONED = "abandoned"
    MACHINE = "machine"


def uk_abandon_rate(*, abandoned: int, machines: int, connected: int) -> float:
    """Ofcom's answering-machine-adjusted abandon rate."""
    if abandoned == 0:
        return 0.0
    d_adj = abandoned - abandoned * machines / (machines + connected) if machines + connected \
        else float(abandoned)
    return d_adj / (d_adj + connected) if d_adj + connected > 0 else 0.0


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class WindowCounts:
    connected: int
    abandoned: int
    machines: int

    @property
    def live_answers(self) -> int:
        return self.connected + self.abandoned


class AbandonWindow:
    """Counts of answers in the last `window_s` seconds."""

    def __init__(self, *, window_s: float = US_WINDOW_S, uk_mode: bool = False) -> None:
        self.window_s = window_s
        self.uk_mode = uk_mode
        self._events: collections.deque[tuple[float, AnswerKind]] = collections.deque()
        self._counts = dict.fromkeys(AnswerKind, 0)

    def record(self, kind: AnswerKind, *, at_s: float) -> None:
        self._events.append((at_s, kind))
        self._counts[kind] += 1

    def counts(self, now_s: float) -> WindowCounts:
        cutoff = now_s - self.window_s
        events, counts = self._events, self._counts
        while events and events[0][0] <= cutoff:
            counts[events.popleft()[1]] -= 1
        return WindowCounts(connected=counts[AnswerKind.CONNECTED],
                            abandoned=counts[AnswerKind.ABANDONED],
                            machines=counts[AnswerKind.MACHINE])

    def rate(self, now_s: float) -> float:
        return self.rate_of(self.counts(now_s))

    def rate_of(self, c: WindowCounts) -> float:
        """The abandon rate of these counts (the UK estimate in UK mode)."""
        if self.uk_mode:
            return uk_abandon_rate(abandoned=c.abandoned, machines=c.machines,
                                   connected=c.connected)
        return c.abandoned / c.live_answers if c.live_answers else 0.0
