"""The scenario format: mixtures, breaks, notices, trunk lines."""

from __future__ import annotations

import math
import random
import statistics
from typing import Any

import pytest

from dialer.errors import ScenarioError
from dialer.sim.scenario import Dist, load_scenario, parse_scenario

BIMODAL = {"dist": "mixture", "parts": [
    {"weight": 3, "dist": "lognormal", "mean": 60.0, "sd": 20.0},
    {"weight": 2, "dist": "fixed", "value": 360.0},
]}  # fmt: skip


def minimal(**extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "duration_s": 3600, "staffing": {"agents": 4},
        "callee": {"live": 0.3, "answer_after_s": 8.0}, "agent": {"talk_s": 60.0},
    }  # fmt: skip
    for section, values in extra.items():
        raw[section] = {**raw.get(section, {}), **values}
    return raw


def test_a_mixture_has_the_mean_and_sd_of_its_parts_and_samples_both_modes() -> None:
    dist = Dist.parse(BIMODAL, "talk")
    assert dist.kind == "mixture"
    assert dist.mean == pytest.approx(0.6 * 60.0 + 0.4 * 360.0)
    second = 0.6 * (20.0**2 + 60.0**2) + 0.4 * 360.0**2
    assert dist.sd == pytest.approx(math.sqrt(second - dist.mean**2))
    rng = random.Random(1)
    draws = [dist.sample(rng) for _ in range(20_000)]
    orders = sum(1 for d in draws if d == 360.0)
    assert orders / len(draws) == pytest.approx(0.4, abs=0.015)
    declines = [d for d in draws if d != 360.0]
    assert statistics.fmean(declines) == pytest.approx(60.0, rel=0.03)
    assert statistics.fmean(draws) == pytest.approx(dist.mean, rel=0.02)


def test_mixtures_nest() -> None:
    inner = {"dist": "mixture", "parts": [{"weight": 1, "dist": "fixed", "value": 1.0},
                                          {"weight": 1, "dist": "fixed", "value": 3.0}]}
    dist = Dist.parse({"dist": "mixture", "parts": [{"weight": 1, **inner},
                                                    {"weight": 1, "dist": "fixed",
                                                     "value": 10.0}]}, "x")
    assert dist.mean == pytest.approx(0.25 * 1 + 0.25 * 3 + 0.5 * 10)
    rng = random.Random(2)
    assert {dist.sample(rng) for _ in range(200)} == {1.0, 3.0, 10.0}


@pytest.mark.parametrize("raw", [
    {"dist": "mixture"},
    {"dist": "mixture", "parts": []},
    {"dist": "mixture", "parts": "lognormal"},
    {"dist": "mixture", "parts": [{"dist": "fixed", "value": 1.0}]},  # no weight
    {"dist": "mixture", "parts": [{"weight": -1, "dist": "fixed", "value": 1.0}]},
    {"dist": "mixture", "parts": [{"weight": 0, "dist": "fixed", "value": 1.0}]},
    {"dist": "mixture", "parts": [{"weight": 1, "dist": "gamma", "mean": 1.0}]},
])  # fmt: skip
def test_bad_mixtures_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ScenarioError):
        Dist.parse(raw, "agent.talk_s")


def test_home_shopping_talk_is_bimodal() -> None:
    talk = load_scenario("home-shopping-20").talk
    assert talk.kind == "mixture"
    means = sorted(part.mean for _, part in talk.parts)
    assert means == [60.0, 360.0]  # one-minute declines, six-minute orders


def test_breaks_notices_and_trunk_lines_parse() -> None:
    sc = parse_scenario(minimal(
        staffing={"changes": [{"at_s": 1800, "agents": 2, "notice_s": 600},
                              {"at_s": 900, "agents": 3}],
                  "breaks": [{"at_s": 600, "agents": 2, "for_s": 300, "spread_s": 60,
                              "reason": "lunch"}]},
        rules={"trunk_lines": 30}))
    assert [(c.at_s, c.agents, c.notice_s) for c in sc.staffing_changes] == [
        (900.0, 3, None), (1800.0, 2, 600.0)]
    (brk,) = sc.breaks
    assert (brk.at_s, brk.agents, brk.for_s, brk.spread_s, brk.notice_s, brk.reason) == (
        600.0, 2, 300.0, 60.0, None, "lunch")
    assert sc.trunk_lines == 30
    assert parse_scenario(minimal()).breaks == ()
    assert parse_scenario(minimal()).trunk_lines is None


@pytest.mark.parametrize("extra", [
    {"staffing": {"breaks": [{"at_s": 600, "agents": 2, "for_s": 0}]}},
    {"staffing": {"breaks": [{"at_s": 600, "agents": 2}]}},
    {"staffing": {"breaks": [{"at_s": -1, "agents": 2, "for_s": 60}]}},
    {"staffing": {"changes": [{"at_s": 60, "agents": 2, "notice_s": -5}]}},
    {"staffing": {"changes": [{"at_s": 60, "agents": -2}]}},
    {"rules": {"trunk_lines": 0}},
])  # fmt: skip
def test_bad_staffing_is_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(ScenarioError):
        parse_scenario(minimal(**extra))
