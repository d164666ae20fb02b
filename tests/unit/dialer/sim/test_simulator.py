"""The shift simulator: deterministic per seed, staffing and scenario parsing."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from cli.bench.pacing import main
from dialer.core.agents import AgentState
from dialer.core.pacing.registry import load_strategy
from dialer.errors import ScenarioError
from dialer.sim.results import percentile, worst_hour_rate
from dialer.sim.scenario import Change, Scenario, bundled_scenarios, load_scenario
from dialer.sim.simulator import ShiftSimulator, simulate


def short(name: str, minutes: float = 20.0) -> Scenario:
    return dataclasses.replace(load_scenario(name), duration_s=minutes * 60.0)


def test_bundled_scenarios_parse() -> None:
    assert set(bundled_scenarios()) >= {"steady-50", "small-team-6", "home-shopping-20",
                                        "evening-drift-100"}
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
    strip = {"wall_seconds": 0.0}
    assert dataclasses.replace(one, **strip) == dataclasses.replace(two, **strip)
    assert dataclasses.replace(one, **strip) != dataclasses.replace(other, **strip)


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
    assert worst_hour_rate(answers) == pytest.approx(3 / 21)
    assert worst_hour_rate(answers[:19]) is None  # fewer than 20 live answers
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
