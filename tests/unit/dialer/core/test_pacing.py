"""Each strategy on a short shift; the registry; the interface's arithmetic."""

from __future__ import annotations

import copy
import dataclasses
import math

import pytest

from dialer.core.pacing.base import OutcomeStats, PacingSettings, PacingStrategy, Snapshot
from dialer.core.pacing.registry import BUILT_IN, load_strategy, strategy_class
from dialer.core.pacing.simple import Progressive, Ratio, dial_level_calls
from dialer.errors import UnknownStrategy
from dialer.sim.scenario import Scenario, load_scenario
from dialer.sim.simulator import simulate

SETTINGS = PacingSettings()


def short(name: str, minutes: float = 30.0) -> Scenario:
    return dataclasses.replace(load_scenario(name), duration_s=minutes * 60.0)


def snap(*, ready: int = 0, on_call: int = 0, ringing: int = 0, waiting: int = 0) -> Snapshot:
    return Snapshot(now_s=0.0, ready_s=(1.0,) * ready, reserved=0, on_call_s=(30.0,) * on_call,
                    wrap_up_s=(), paused=0, ringing_s=(3.0,) * ringing,
                    waiting_s=(0.5,) * waiting, stats=OutcomeStats(), settings=SETTINGS)


def test_progressive_dials_one_line_per_free_agent() -> None:
    strategy = Progressive(SETTINGS)
    assert strategy.calls_to_place(snap(ready=5, ringing=2)) == 3
    assert strategy.calls_to_place(snap(ready=2, ringing=2, waiting=1)) == 0


def test_ratio_follows_the_goal_calls_rule() -> None:
    # level 2 x (4 ready + 6 talking) = 20 lines; 6 talking + 5 ringing exist -> 9 new
    assert dial_level_calls(snap(ready=4, on_call=6, ringing=5), 2.0) == 9
    # level 1 is progressive: 10 lines, 6 talking + 3 ringing -> 1 new
    level_one = Ratio(dataclasses.replace(SETTINGS, dial_ratio=1.0))
    assert level_one.calls_to_place(snap(ready=4, on_call=6, ringing=3)) == 1


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_each_built_in_runs_a_short_shift_within_the_cap(name: str) -> None:
    result = simulate(short("steady-50"), load_strategy(name, SETTINGS), seed=3)
    assert result.strategy == name
    assert result.dials > 0
    assert result.connected > 0
    assert 0.0 < result.occupancy <= 1.0
    if name in ("preview", "progressive"):
        assert result.abandoned == 0  # never more lines than free agents


def test_predictive_beats_progressive_on_a_short_shift() -> None:
    scenario = short("steady-50", 45.0)
    pred = simulate(scenario, load_strategy("predictive", SETTINGS), seed=2)
    prog = simulate(scenario, load_strategy("progressive", SETTINGS), seed=2)
    assert pred.occupancy > prog.occupancy + 0.05
    assert pred.abandon_rate <= scenario.abandon_cap


def test_predictive_small_team_stays_under_the_cap() -> None:
    scenario = short("small-team-6", 120.0)
    result = simulate(scenario, load_strategy("predictive", SETTINGS), seed=4)
    assert result.abandon_rate <= scenario.abandon_cap


class EveryLine(PacingStrategy):
    """A reckless user strategy: asks for 50 lines every second."""

    name = "every-line"

    def calls_to_place(self, snapshot: Snapshot) -> int:
        return 50


def test_user_strategy_loads_by_import_path_and_the_guard_still_holds_the_cap() -> None:
    cls = strategy_class(f"{__name__}:EveryLine")
    assert cls is EveryLine
    scenario = short("steady-50", 60.0)
    result = simulate(scenario, cls(SETTINGS), seed=1)
    assert result.refused_dials > 0  # the abandon cap held dials back
    assert result.abandon_rate < 0.5


@pytest.mark.parametrize("ref", ["nope", "dialer.core.pacing.simple:Nope", "no_such_mod:X",
                                 "dialer.core.pacing.simple:dial_level_calls", ":X"])
def test_unknown_strategies_are_refused(ref: str) -> None:
    with pytest.raises(UnknownStrategy):
        strategy_class(ref)


def test_seed_ranges_parse_and_bad_ones_explain() -> None:
    import argparse

    import pytest

    from cli.bench.pacing import parse_seeds

    assert parse_seeds("1-5") == [1, 2, 3, 4, 5]
    assert parse_seeds("1,3,7-8") == [1, 3, 7, 8]
    with pytest.raises(argparse.ArgumentTypeError, match="seeds look like"):
        parse_seeds("one")


def test_over_seeds_reports_medians_and_the_worst_run() -> None:
    from cli.bench.pacing import over_seeds

    summary = over_seeds("small-team-6", "progressive", [1, 2, 3])
    runs = summary["runs"]
    assert isinstance(runs, list)
    assert [r["seed"] for r in runs] == [1, 2, 3]
    rates = sorted(r["abandon_rate"] for r in runs)
    median = summary["median"]
    assert isinstance(median, dict)
    assert median["abandon_rate"] == round(rates[1], 5)
    assert summary["max_abandon_rate"] == rates[-1]


def test_hours_cut_the_shift_and_must_be_in_range() -> None:
    import argparse

    from cli.bench.pacing import positive_hours, run_one

    result = run_one("small-team-6", "progressive", 1, hours=0.25)
    assert result.sim_seconds == 900.0
    assert positive_hours("1.5") == 1.5
    for bad in ("0", "-1", "25", "soon"):
        with pytest.raises(argparse.ArgumentTypeError, match="hours between 0 and 24"):
            positive_hours(bad)


def test_a_young_model_does_not_bet_the_first_hour_on_one_batch() -> None:
    """steady-50, seed 11: the contact rate learnt by 148 s came out at 0.18 (true 0.25).
    Sized on it, one batch of 81 dials put 10 answers on no agent and the cap rule held
    the hour progressive (occupancy 0.797). Planning on the estimate's error keeps the
    first hour with the other seeds (0.88-0.93)."""
    from cli.bench.pacing import run_one

    result = run_one("steady-50", "predictive", 11, hours=1.0)
    assert result.occupancy > 0.85
    assert result.abandon_rate < 0.03


def trained_predictive() -> PacingStrategy:
    from dialer.core.pacing.base import Outcome, OutcomeKind

    strategy = load_strategy("predictive", SETTINGS)
    at = 0.0
    for _ in range(60):
        for kind, duration in ((OutcomeKind.ANSWERED_LIVE, 8.0), (OutcomeKind.NO_ANSWER, 20.0),
                               (OutcomeKind.ANSWERED_MACHINE, 10.0), (OutcomeKind.BUSY, 2.0),
                               (OutcomeKind.CONNECTED, 0.0), (OutcomeKind.TALK_ENDED, 60.0),
                               (OutcomeKind.WRAP_ENDED, 2.0)):
            at += 1.0
            strategy.observe(Outcome(kind=kind, at_s=at, duration_s=duration))
    return strategy


def busy_floor(*, on_call_leave: tuple[float, ...] = (), back: tuple[float, ...] = (),
               ready_leave: tuple[float, ...] = ()) -> Snapshot:
    on_call = (57.0,) * 10  # 3 s before the end of a 60 s talk (+ 2 s wrap): soon free
    return Snapshot(now_s=500.0, ready_s=(1.0,) * 2, reserved=0, on_call_s=on_call,
                    wrap_up_s=(), paused=len(back), ringing_s=(), waiting_s=(),
                    stats=OutcomeStats(), settings=SETTINGS,
                    ready_leave_s=ready_leave or ((math.inf,) * 2 if on_call_leave else ()),
                    on_call_leave_s=on_call_leave or ((math.inf,) * 10 if ready_leave else ()),
                    paused_return_s=back)


def test_predictive_does_not_count_busy_agents_about_to_leave_as_soon_free() -> None:
    strategy = trained_predictive()
    staying = copy.deepcopy(strategy).calls_to_place(busy_floor())
    assert staying > 2  # overdials for the agents about to finish their calls
    leaving = copy.deepcopy(strategy).calls_to_place(busy_floor(on_call_leave=(0.0,) * 10))
    assert leaving == 2  # only the two ready agents: the talkers go home after their call
    later = copy.deepcopy(strategy).calls_to_place(busy_floor(on_call_leave=(600.0,) * 10))
    assert later == staying  # leaving long after the horizon changes nothing


def test_predictive_counts_paused_agents_from_their_return() -> None:
    strategy = trained_predictive()
    base = copy.deepcopy(strategy).calls_to_place(busy_floor(on_call_leave=(0.0,) * 10))
    returning = copy.deepcopy(strategy).calls_to_place(
        busy_floor(on_call_leave=(0.0,) * 10, back=(4.0,) * 5))
    assert returning > base
    far = copy.deepcopy(strategy).calls_to_place(
        busy_floor(on_call_leave=(0.0,) * 10, back=(900.0,) * 5))
    assert far == base


def test_every_strategy_leaves_out_ready_agents_about_to_leave() -> None:
    ready_leaving = busy_floor(ready_leave=(3.0, 3.0))
    assert ready_leaving.ready_staying == 0
    assert ready_leaving.free_lines == 0
    for name in ("progressive", "ratio", "adaptive"):
        strategy = load_strategy(name, SETTINGS)
        assert strategy.calls_to_place(ready_leaving) <= strategy.calls_to_place(busy_floor())

