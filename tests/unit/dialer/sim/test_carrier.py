"""The shared carrier model: who picks up, after how long, and drift."""

from __future__ import annotations

import collections
import random

import pytest

from dialer.core.calls import CallState
from dialer.sim.carrier import RING_AFTER_S, CarrierModel
from dialer.sim.scenario import Scenario, parse_scenario


def scenario(**callee: object) -> Scenario:
    return parse_scenario({
        "duration_s": 3600, "staffing": {"agents": 1},
        "callee": {"live": 0.3, "machine": 0.2, "busy": 0.1, "failed": 0.1,
                   "answer_after_s": {"dist": "uniform", "low": 2.0, "high": 30.0},
                   "busy_after_s": 3.0, "failed_after_s": 1.5, **callee},
        "agent": {"talk_s": 60.0},
        "rules": {"max_ring_s": 20.0, "amd_s": 3.0},
    })  # fmt: skip


def test_same_seed_same_draws() -> None:
    sc = scenario()
    one = CarrierModel.seeded(sc, seed=4)
    two = CarrierModel(sc, rng=random.Random("4:callee"))
    other = CarrierModel.seeded(sc, seed=5)
    a = [one.draw(at_s=float(t)) for t in range(200)]
    assert a == [two.draw(at_s=float(t)) for t in range(200)]
    assert a != [other.draw(at_s=float(t)) for t in range(200)]


def test_each_outcome_comes_when_the_scenario_says() -> None:
    model = CarrierModel.seeded(scenario(), seed=1)
    seen: dict[CallState, list[float]] = collections.defaultdict(list)
    for t in range(20_000):
        outcome, after_s = model.draw(at_s=float(t))
        seen[outcome].append(after_s)
    total = sum(len(v) for v in seen.values())
    # answer times are uniform 2..30 s: those past the 20 s ring timeout ring out
    answered_share = (20.0 - 2.0) / (30.0 - 2.0)
    assert len(seen[CallState.ANSWERED_LIVE]) / total == pytest.approx(
        0.3 * answered_share, abs=0.01)
    assert len(seen[CallState.ANSWERED_MACHINE]) / total == pytest.approx(
        0.2 * answered_share, abs=0.01)
    assert len(seen[CallState.BUSY]) / total == pytest.approx(0.1, abs=0.01)
    assert max(seen[CallState.ANSWERED_LIVE]) <= 20.0
    assert min(seen[CallState.ANSWERED_MACHINE]) >= 2.0 + 3.0  # + the detector's 3 s
    assert set(seen[CallState.BUSY]) == {3.0}
    assert set(seen[CallState.FAILED]) == {1.5}
    assert set(seen[CallState.NO_ANSWER]) == {20.0}


def test_ringing_is_reported_except_for_busy_and_failed() -> None:
    model = CarrierModel.seeded(scenario(), seed=2)
    for t in range(500):
        draw = model.draw(at_s=float(t))
        if draw.outcome in (CallState.BUSY, CallState.FAILED):
            assert not draw.rings
            assert draw.ringing_after_s is None
        else:
            assert draw.rings
            assert draw.ringing_after_s == min(RING_AFTER_S, draw.after_s)


def test_the_mix_drifts_at_its_time_and_a_shorter_ring_timeout_is_kept() -> None:
    sc = scenario(drift=[{"at_s": 1000, "live": 0.0, "machine": 0.0, "busy": 0.0,
                          "failed": 0.0}])
    model = CarrierModel.seeded(sc, seed=3)
    assert model.mix_at(999.0).live == 0.3
    assert model.mix_at(1000.0).live == 0.0
    after = {model.draw(at_s=1000.0 + t, max_ring_s=16.0) for t in range(100)}
    assert after == {(CallState.NO_ANSWER, 16.0)}  # nobody picks up any more
    assert model.lines is None
    assert CarrierModel.seeded(parse_scenario({
        "duration_s": 60, "staffing": {"agents": 1},
        "callee": {"live": 0.5, "answer_after_s": 5.0}, "agent": {"talk_s": 60.0},
        "rules": {"trunk_lines": 12}}), seed=1).lines == 12
