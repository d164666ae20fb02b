"""The shift simulator: deterministic per seed, staffing and scenario parsing."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from cli.bench.pacing import main
from dialer.core.agents import AgentState
from dialer.core.pacing.base import Snapshot
from dialer.core.pacing.registry import load_strategy
from dialer.errors import ScenarioError
from dialer.sim.results import hourly, percentile, worst_hour_rate
from dialer.sim.scenario import Change, Scenario, bundled_scenarios, load_scenario, parse_scenario
from dialer.sim.simulator import Move, ShiftSimulator, roster, simulate


def short(name: str, minutes: float = 20.0) -> Scenario:
    return dataclasses.replace(load_scenario(name), duration_s=minutes * 60.0)


def test_bundled_scenarios_parse() -> None:
    assert set(bundled_scenarios()) >= {"steady-50", "small-team-6", "home-shopping-20",
                                        "evening-drift-100", "shift-end-30", "breaks-40"}
    drift = load_scenario("evening-drift-100")
    assert drift.drift[0].mix.live == 0.12
    assert drift.drift[0].mix.busy == 0.06  # unspecified keys carry over
    talk = load_scenario("steady-50").talk
    assert talk.kind == "lognormal"
    assert math.isclose(math.exp(talk.mu + talk.sigma**2 / 2), 150.0)


def test_same_seed_same_shift_other_seed_other_shift() -> None:
    scenario = short("home-shopping-20")
    settings = scenario.pacing_settings()
    one = simulate(scenario, load_strategy("predictive", settings), seed=7)
    two = simulate(scenario, load_strategy("predictive", settings), seed=7)
    other = simulate(scenario, load_strategy("predictive", settings), seed=8)
    assert dataclasses.replace(one, wall_seconds=0.0) == dataclasses.replace(two, wall_seconds=0.0)
    assert dataclasses.replace(one, wall_seconds=0.0) != dataclasses.replace(
        other, wall_seconds=0.0)


def test_staffing_changes_log_agents_out_after_their_call_and_back_in() -> None:
    scenario = dataclasses.replace(
        short("steady-50", 30.0),
        staffing_changes=(Change(at_s=600.0, agents=20), Change(at_s=1200.0, agents=35)))
    sim = ShiftSimulator(scenario, load_strategy("progressive", scenario.pacing_settings()),
                         seed=1)
    result = sim.run()
    logged_in = [a for a in sim.agents if a.logged_in and not a.logout_requested]
    assert len(logged_in) == 35
    for agent in sim.agents:
        spent = agent.time_in_state(scenario.duration_s)
        elapsed = scenario.duration_s - agent.started_s
        assert math.isclose(sum(spent.values()), elapsed, abs_tol=1e-6)
    assert any(a.state is AgentState.OFFLINE for a in sim.agents) or len(sim.agents) == 50
    assert result.connected > 0


def test_worst_hour_and_percentiles_by_hand() -> None:
    answers = [(float(t), t % 10 == 0) for t in range(0, 30)]  # 3 abandons in 30
    # the worst hour holding >= 20 answers ends at t=20: 3 abandons in 21
    assert worst_hour_rate(answers, duration_s=30.0) is None  # no full hour in 30 s
    assert worst_hour_rate(answers[:19], duration_s=7200.0) is None  # < 20 live answers
    assert percentile([3.0, 1.0, 2.0, 4.0], 50) == 2.0
    assert percentile([3.0, 1.0, 2.0, 4.0], 99) == 4.0


def test_bad_scenarios_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('duration_s = 60\n[staffing]\nagents = 2\n[callee]\nlive = 0.5\n'
                   'answer_after_s = { dist = "lognormal", mean = 5.0, sd = 1.0 }\n'
                   '[agent]\ntalk_s = { dist = "fixed", value = 60 }\n'
                   '[rules]\nmax_ring_s = 10\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="max_ring_s"):
        load_scenario(str(bad))
    with pytest.raises(ScenarioError):
        load_scenario("no-such-scenario")


def test_cli_prints_json_last(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = load_scenario("small-team-6")
    assert text.name == "small-team-6"
    path = tmp_path / "tiny.toml"
    source = Path(__file__).parents[4] / "dialer" / "sim" / "scenarios" / "small-team-6.toml"
    path.write_text(source.read_text(encoding="utf-8").replace("14400", "900"),
                    encoding="utf-8")
    assert main(["pacing", "--scenario", str(path), "--strategy", "adaptive", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    data = json.loads(lines[-1])
    for key in ("scenario", "strategy", "seed", "agents", "dials", "live_answers", "abandoned",
                "abandon_rate", "worst_hour_abandon_rate", "occupancy", "talk_occupancy",
                "contacts_per_agent_hour", "contacts_bound", "bound_ratio",
                "connect_wait_p50_s", "connect_wait_p99_s", "sim_seconds", "wall_seconds"):
        assert key in data
    assert data["strategy"] == "adaptive"
    assert data["seed"] == 3
    assert len(lines) > 1  # a human summary came first
    assert main(["pacing", "--scenario", str(path), "--compare", "--json"]) == 0
    table = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {row["strategy"] for row in table} == {"preview", "progressive", "ratio",
                                                   "adaptive", "predictive"}
    assert main(["pacing", "--scenario", str(path), "--strategy", "nope"]) == 2


@pytest.mark.parametrize("strategy", ["preview", "progressive", "ratio", "adaptive", "predictive"])
def test_every_built_in_strategy_survives_agents_logging_out(strategy: str) -> None:
    # home-shopping-20 sends six agents home mid-shift, some while a call is held for them.
    from cli.bench.pacing import run_one

    result = run_one("home-shopping-20", strategy, 1)
    assert result.connected > 0
    assert result.agents == 20


def test_full_hours_only_count_towards_the_worst_hour() -> None:
    # a bad first ten minutes: 5 abandons in the first 25 answers, then an hour of clean ones
    early = [(float(t * 24), t < 5) for t in range(25)]
    later = [(600.0 + t * 36.0, False) for t in range(100)]
    answers = early + later
    worst = worst_hour_rate(answers, duration_s=7200.0)
    assert worst is not None
    # no hour may start before the shift: the worst is the first full hour, 5 in its answers
    in_first_hour = sum(1 for t, _ in answers if t <= 3600.0)
    assert worst == pytest.approx(5 / in_first_hour)
    assert worst < 5 / 25
    # an hour may not run past the end of the shift either
    assert worst_hour_rate(answers, duration_s=3599.0) is None


def test_worst_hour_looks_at_hours_starting_and_ending_at_an_answer() -> None:
    clean = [(float(t), False) for t in range(0, 3600, 60)]  # 60 answers
    bad = [(3700.0 + t, True) for t in range(6)] + [(3710.0 + t, False) for t in range(24)]
    answers = sorted(clean + bad)
    worst = worst_hour_rate(answers, duration_s=3 * 3600.0)
    # the hour starting at the first abandon holds the 30 late answers: 6 abandoned
    assert worst == pytest.approx(6 / 30)


def test_hourly_figures_cover_full_clock_hours() -> None:
    answers = [(10.0, True), (3599.0, False), (3600.0, False), (7300.0, True)]
    hours = hourly(answers, duration_s=7500.0)  # the last 300 s are not a full hour
    assert [(h.from_s, h.live_answers, h.abandoned) for h in hours] == [
        (0.0, 2, 1), (3600.0, 1, 0)]
    assert hours[0].abandon_rate == 0.5
    assert hours[0].as_json()["abandon_rate"] == 0.5


def scenario_with(**staffing: object) -> Scenario:
    return parse_scenario({
        "name": "t", "duration_s": 3 * 3600, "seed": 2,
        "staffing": {"agents": 10, **staffing},
        "callee": {"live": 0.3, "machine": 0.1, "answer_after_s": 8.0},
        "agent": {"talk_s": {"dist": "lognormal", "mean": 100.0, "sd": 50.0}, "wrap_s": 10.0},
    })  # fmt: skip


def test_the_roster_logs_out_the_last_in_and_takes_breaks_in_turn() -> None:
    sc = scenario_with(
        changes=[{"at_s": 3600, "agents": 7}, {"at_s": 5400, "agents": 12}],
        breaks=[{"at_s": 600, "agents": 4, "for_s": 300, "spread_s": 1200},
                {"at_s": 2000, "agents": 10, "for_s": 300, "notice_s": 60}])
    size, items = roster(sc)
    assert size == 12
    moves = [(i.move, i.agent, i.at_s) for i in items]
    logouts = [(a, t) for m, a, t in moves if m is Move.LOGOUT]
    logins = [(a, t) for m, a, t in moves if m is Move.LOGIN]
    assert logouts == [(9, 3600.0), (8, 3600.0), (7, 3600.0)]
    assert sorted(logins) == [(7, 5400.0), (8, 5400.0), (9, 5400.0), (10, 5400.0),
                              (11, 5400.0)]
    breaks = [i for i in items if i.move is Move.BREAK]
    first = [(b.agent, b.at_s) for b in breaks if b.at_s < 2000]
    assert first == [(0, 600.0), (1, 900.0), (2, 1200.0), (3, 1500.0)]
    second = [b for b in breaks if b.at_s >= 2000]
    # everyone on the floor at 2000 s, starting after the last agent to have had one
    assert [b.agent for b in second] == [4, 5, 6, 7, 8, 9, 0, 1, 2, 3]
    assert all(b.notice_at_s == 2000.0 - 60.0 for b in second)
    assert all(b.notice_at_s == 0.0 for b in breaks if b.at_s < 2000)  # known from the start
    assert [i.at_s for i in items] == sorted(i.at_s for i in items)


def test_no_break_for_an_agent_whose_shift_ends_first() -> None:
    sc = scenario_with(changes=[{"at_s": 1000, "agents": 2}],
                       breaks=[{"at_s": 900, "agents": 10, "for_s": 300}])
    _, items = roster(sc)
    assert sorted(i.agent for i in items if i.move is Move.BREAK) == [0, 1]


def test_agents_pause_for_their_break_and_come_back() -> None:
    sc = scenario_with(breaks=[{"at_s": 1800, "agents": 10, "for_s": 900}])
    sim = ShiftSimulator(sc, load_strategy("predictive", sc.pacing_settings()), seed=4)
    seen: list[tuple[float, int, int]] = []
    tick = sim._tick

    def watch(ref: int) -> None:
        tick(ref)
        paused = sum(1 for a in sim.agents if a.state is AgentState.PAUSED)
        scheduled = sum(1 for a in sim.agents if a.leaves_at_s is not None)
        seen.append((sim.now, paused, scheduled))

    sim._tick = watch  # type: ignore[method-assign,assignment]
    result = sim.run()
    at = {t: (p, s) for t, p, s in seen}
    assert at[1700.0] == (0, 10)  # everyone's break is known ahead
    assert at[1801.0][0] >= 1  # the ready ones went at once
    # a busy agent pauses after its call and wrap-up, then is away 900 s
    assert at[1800.0 + 900.0 + 600.0][0] == 0
    assert at[1800.0 + 900.0 + 600.0][1] == 0
    for agent in sim.agents:
        spent = agent.time_in_state(sc.duration_s)
        assert spent[AgentState.PAUSED] == pytest.approx(900.0)
        assert math.isclose(sum(spent.values()), sc.duration_s, abs_tol=1e-6)
    # paused time is not logged-in time: occupancy is measured on the rest
    assert 0.0 < result.occupancy <= 1.0
    assert result.abandon_rate <= sc.abandon_cap


def test_a_logout_known_ahead_is_seen_by_the_planner_and_an_unannounced_one_is_not() -> None:
    snaps: dict[str, list[tuple[float, tuple[float, ...]]]] = {}
    for label, notice in (("known", None), ("surprise", 0)):
        change: dict[str, object] = {"at_s": 3600, "agents": 4}
        if notice is not None:
            change["notice_s"] = notice
        sc = scenario_with(changes=[change])
        strategy = load_strategy("progressive", sc.pacing_settings())
        sim = ShiftSimulator(sc, strategy, seed=1)
        calls = strategy.calls_to_place
        got: list[tuple[float, tuple[float, ...]]] = []

        def spy(snapshot: Snapshot, calls: object = calls,
                got: list[tuple[float, tuple[float, ...]]] = got) -> int:
            got.append((snapshot.now_s, snapshot.on_call_leave_s + snapshot.ready_leave_s
                        + snapshot.wrap_up_leave_s))
            assert callable(calls)
            n: int = calls(snapshot)
            return n

        strategy.calls_to_place = spy  # type: ignore[method-assign]
        sim.run()
        snaps[label] = got
    before = dict(snaps["known"])[3590.0]
    assert sorted(s for s in before if s < math.inf) == [10.0] * 6  # 6 of 10 leave in 10 s
    assert dict(snaps["surprise"])[3590.0] == ()


def test_the_planner_knowing_the_shift_end_winds_down_and_keeps_the_cap() -> None:
    """shift-end-30: 25 of 30 agents end their shift at 2 h. Known ahead, the planner has
    far fewer calls in flight when they go, and the next hour stays under the cap."""
    known = load_scenario("shift-end-30")
    change = known.staffing_changes[0]
    assert (known.agents, change.agents, change.at_s) == (30, 5, 7200.0)
    surprise = dataclasses.replace(
        known, staffing_changes=(dataclasses.replace(change, notice_s=0.0),))
    in_flight: dict[str, int] = {}
    live = dropped = 0
    for label, sc in (("known", known), ("surprise", surprise)):
        in_flight[label] = 0
        for seed in (1, 2, 3):
            sim = ShiftSimulator(sc, load_strategy("predictive", sc.pacing_settings()),
                                 seed=seed)
            tick = sim._tick

            def watch(ref: int, sim: ShiftSimulator = sim, tick: Callable[[int], None] = tick,
                      label: str = label) -> None:
                tick(ref)
                if sim.now == change.at_s - 1.0:
                    in_flight[label] += len(sim.in_flight)

            sim._tick = watch  # type: ignore[method-assign,assignment]
            result = sim.run()
            if label == "known":
                next_hour = result.hours[2]
                assert next_hour.from_s == change.at_s
                live += next_hour.live_answers
                dropped += next_hour.abandoned
    assert in_flight["known"] < in_flight["surprise"] / 2
    assert dropped / live <= known.abandon_cap


def test_cli_runs_the_same_shift_again_for_a_median_wall_time(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    source = Path(__file__).parents[4] / "dialer" / "sim" / "scenarios" / "small-team-6.toml"
    path.write_text(source.read_text(encoding="utf-8").replace("14400", "600"),
                    encoding="utf-8")
    assert main(["pacing", "--scenario", str(path), "--strategy", "ratio", "--runs", "3",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    runs = data["wall_seconds_runs"]
    assert len(runs) == 3
    assert data["wall_seconds"] == sorted(runs)[1]
    assert len(data["load_average"]) == 3
    assert [h["from_s"] for h in data["hours"]] == []  # 600 s: no full hour
    with pytest.raises(SystemExit):
        main(["pacing", "--scenario", str(path), "--runs", "0"])
