"""The live planner's tally as Prometheus counters (bench live-pacing's refused_dials)."""

from __future__ import annotations

from dialer.core.planner import Decision, Limit
from server.metrics import REGISTRY, count_decision


def _value(name: str, campaign: str) -> float:
    return REGISTRY.get_sample_value(f"telemart_dialer_{name}_total", {"campaign": campaign}) or 0.0


def test_held_back_dials_are_counted_per_campaign() -> None:
    before = _value("dials_held_by_cap", "9101"), _value("dials_planned", "9101")
    # the strategy wanted 5, the ceiling left 4, the cap let 1 through
    count_decision(9101, Decision(count=1, wanted=5, ceiling=4, limited_by=Limit.ABANDON_CAP))
    count_decision(9101, Decision(count=2, wanted=2, ceiling=2, limited_by=Limit.STRATEGY))
    count_decision(9102, Decision(count=0, wanted=3, ceiling=3, limited_by=Limit.ABANDON_CAP))
    assert _value("dials_held_by_cap", "9101") - before[0] == 3
    assert _value("dials_planned", "9101") - before[1] == 3
    assert _value("dials_held_by_cap", "9102") == 3
