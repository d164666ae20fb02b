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


def worst_hour_rate(answers: Sequence[tuple[float, bool]]) -> float | None:
    """Worst abandon rate over any rolling hour holding >= 20 live answers.

    `answers` holds (answer time, abandoned) in time order; each hour ends at an answer."""
    worst: float | None = None
    start = 0
    dropped = 0
    for end, (at_s, abandoned) in enumerate(answers):
        dropped += abandoned
        while answers[start][0] <= at_s - HOUR_S:
            dropped -= answers[start][1]
            start += 1
        live = end - start + 1
        if live >= MIN_LIVE_IN_HOUR:
            rate = dropped / live
            worst = rate if worst is None or rate > worst else worst
    return worst


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

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[field.name] = round(value, 5) if isinstance(value, float) else value
        return out
