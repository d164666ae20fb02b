"""What a simulated shift measured, and the statistics the benchmark prints."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

HOUR_S = 3600.0
MIN_LIVE_IN_HOUR = 20  # a rolling hour counts towards the worst hour only with this many


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def worst_hour_rate(answers: Sequence[tuple[float, bool]], *, duration_s: float) -> float | None:
    """Worst abandon rate over any full rolling hour of the shift holding >= 20 live answers.

    `answers` holds (answer time, abandoned) in time order. The hours looked at are those
    that end at an answer or start at one, and lie wholly inside the shift [0, duration_s]:
    the first minutes alone never count as an hour."""
    worst: float | None = None

    def consider(live: int, dropped: int) -> None:
        nonlocal worst
        if live >= MIN_LIVE_IN_HOUR:
            rate = dropped / live
            worst = rate if worst is None or rate > worst else worst

    # hours (t - 1 h, t] ending at an answer t, with 1 h <= t <= the end of the shift
    start = dropped = 0
    for end, (at_s, abandoned) in enumerate(answers):
        dropped += abandoned
        while answers[start][0] <= at_s - HOUR_S:
            dropped -= answers[start][1]
            start += 1
        if HOUR_S <= at_s <= duration_s:
            consider(end - start + 1, dropped)
    # hours [t, t + 1 h) starting at an answer t, with t + 1 h <= the end of the shift
    end = dropped = 0
    for first, (at_s, _abandoned) in enumerate(answers):
        if at_s + HOUR_S > duration_s:
            break
        while end < len(answers) and answers[end][0] < at_s + HOUR_S:
            dropped += answers[end][1]
            end += 1
        consider(end - first, dropped)
        dropped -= answers[first][1]
    return worst


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class HourFigures:
    """Live answers and abandons in one clock hour of the shift [from_s, from_s + 1 h)."""

    from_s: float
    live_answers: int
    abandoned: int

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live_answers if self.live_answers else 0.0

    def as_json(self) -> dict[str, object]:
        return {"from_s": self.from_s, "live_answers": self.live_answers,
                "abandoned": self.abandoned, "abandon_rate": round(self.abandon_rate, 5)}


def hourly(answers: Sequence[tuple[float, bool]], *, duration_s: float) -> tuple[HourFigures, ...]:
    """Each full clock hour of the shift (a last partial hour is left out)."""
    hours = int(duration_s // HOUR_S)
    live = [0] * hours
    dropped = [0] * hours
    for at_s, abandoned in answers:
        h = int(at_s // HOUR_S)
        if 0 <= h < hours:
            live[h] += 1
            dropped[h] += abandoned
    return tuple(HourFigures(from_s=h * HOUR_S, live_answers=live[h], abandoned=dropped[h])
                 for h in range(hours))


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ShiftResult:
    scenario: str
    strategy: str
    seed: int
    agents: int
    dials: int
    live_answers: int
    connected: int
    abandoned: int
    abandon_rate: float
    worst_hour_abandon_rate: float | None
    occupancy: float
    talk_occupancy: float
    contacts_per_agent_hour: float
    contacts_bound: float
    bound_ratio: float
    connect_wait_p50_s: float
    connect_wait_p99_s: float
    refused_dials: int
    sim_seconds: float
    wall_seconds: float
    hours: tuple[HourFigures, ...] = ()  # each full clock hour of the shift

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, float):
                value = round(value, 5)
            elif field.name == "hours":
                value = [hour.as_json() for hour in self.hours]
            out[field.name] = value
        return out
