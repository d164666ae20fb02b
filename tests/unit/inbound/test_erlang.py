"""Erlang A against published tables (its Erlang C and Erlang B limits) and its exact
identities; staffing is the fewest agents that reach the target."""

from __future__ import annotations

import math

import pytest

from dialer.inbound.erlang import agents_needed, erlang_a


@pytest.mark.parametrize(
    ("agents", "calls", "period_s", "aht_s", "asa_s"),
    [
        # Abstract Micro Systems' Erlang library manual, ErlcWait4 examples
        (20, 100, 1800, 240, 2.243505841),
        (20, 100, 1800, 300, 30.4312286),
    ],
)
def test_erlang_c_limit_average_wait(
    agents: int, calls: int, period_s: float, aht_s: float, asa_s: float
) -> None:
    r = erlang_a(
        agents=agents, arrival_rate=calls / period_s, aht_s=aht_s, patience_s=math.inf, target_s=20
    )
    assert r.mean_wait_s == pytest.approx(asa_s, rel=1e-6)
    assert r.p_abandon == pytest.approx(0.0, abs=1e-9)


def test_erlang_c_limit_delay_probability_and_service_level() -> None:
    # the classic textbook case: 0.2 calls/s, 240 s calls, 55 agents:
    # P(wait) 0.2387, mean wait 8.184 s, 84.59 % answered within 15 s
    r = erlang_a(agents=55, arrival_rate=0.2, aht_s=240, patience_s=math.inf, target_s=15)
    assert r.p_wait == pytest.approx(0.2387, abs=5e-5)
    assert r.mean_wait_s == pytest.approx(8.184, abs=5e-4)
    assert r.service_level == pytest.approx(0.8459, abs=5e-5)


@pytest.mark.parametrize(
    ("erlangs", "lines", "blocking"),
    # Erlang B table values (offered traffic, lines, blocking); 4.46 E on 10 lines is the
    # table's 1 % entry
    [(10.0, 10, 0.2146), (5.0, 5, 0.2849), (2.0, 5, 0.0367), (4.46, 10, 0.0100)],
)
def test_erlang_b_limit(erlangs: float, lines: int, blocking: float) -> None:
    # callers who hang up at once when nobody is free: the loss system
    r = erlang_a(
        agents=lines, arrival_rate=erlangs / 100.0, aht_s=100.0, patience_s=1e-7, target_s=0.0
    )
    assert r.p_abandon == pytest.approx(blocking, abs=5e-5)


@pytest.mark.parametrize(("agents", "patience_s"), [(14, 60.0), (40, 20.0), (8, 300.0)])
def test_exact_identities(agents: int, patience_s: float) -> None:
    lam, aht = 0.12, 240.0
    r = erlang_a(agents=agents, arrival_rate=lam, aht_s=aht, patience_s=patience_s, target_s=20)
    # every abandonment is a waiting caller's patience running out: P(Ab) = θ·E[W]
    assert r.p_abandon == pytest.approx(r.mean_wait_s / patience_s, rel=1e-6)
    # busy agents = calls answered per second × AHT (Little)
    assert r.occupancy * agents == pytest.approx(lam * (1 - r.p_abandon) * aht, rel=1e-6)
    assert 0.0 <= r.service_level <= 1.0 - r.p_abandon + 1e-9


def test_patience_lowers_the_agents_needed() -> None:
    c = agents_needed(arrival_rate=100 / 1800, aht_s=180, patience_s=math.inf)
    assert c.agents == 14  # 13 agents answer 79.6 %, 14 answer 88.8 % (Erlang C)
    a = agents_needed(arrival_rate=100 / 1800, aht_s=180, patience_s=60)
    assert a.agents < c.agents
    assert a.service_level >= 0.80
    fewer = erlang_a(
        agents=a.agents - 1, arrival_rate=100 / 1800, aht_s=180, patience_s=60, target_s=20
    )
    assert fewer.service_level < 0.80


def test_abandon_cap_adds_agents() -> None:
    plain = agents_needed(arrival_rate=1.0, aht_s=300, patience_s=40)
    capped = agents_needed(arrival_rate=1.0, aht_s=300, patience_s=40, max_abandon=0.05)
    assert capped.agents > plain.agents
    assert capped.p_abandon <= 0.05


def test_no_calls_need_no_agents() -> None:
    assert agents_needed(arrival_rate=0.0, aht_s=180, patience_s=60).agents == 0
    with pytest.raises(ValueError, match="AHT"):
        erlang_a(agents=1, arrival_rate=1, aht_s=0, patience_s=1, target_s=1)


@pytest.mark.parametrize(("lam", "gamma"), [(0.01, 0.07), (0.05, 0.2)])
def test_outbound_stream_alone_is_m_m_1(lam: float, gamma: float) -> None:
    # nobody kept, callers never hang up: each waits for the next outbound agent to finish,
    # an M/M/1 queue served at γ, whose time in the system is Exp(γ − λ)
    r = erlang_a(
        agents=0, arrival_rate=lam, aht_s=160, patience_s=math.inf, target_s=20, extra_rate=gamma
    )
    assert r.service_level == pytest.approx(1 - math.exp(-(gamma - lam) * 20), rel=1e-6)
    assert r.p_wait == pytest.approx(1.0)
    assert r.mean_wait_s == pytest.approx(1 / (gamma - lam), rel=1e-6)


@pytest.mark.parametrize(("agents", "gamma"), [(3, 0.05), (12, 0.02)])
def test_outbound_stream_identities(agents: int, gamma: float) -> None:
    lam, aht, patience = 0.06, 160.0, 60.0
    r = erlang_a(
        agents=agents,
        arrival_rate=lam,
        aht_s=aht,
        patience_s=patience,
        target_s=20,
        extra_rate=gamma,
    )
    # abandonment is still only waiting callers' patience running out
    assert r.p_abandon == pytest.approx(r.mean_wait_s / patience, rel=1e-6)
    plain = erlang_a(agents=agents, arrival_rate=lam, aht_s=aht, patience_s=patience, target_s=20)
    # the stream answers callers the kept agents would have made wait: better service,
    # and the kept agents busy less of the time
    assert r.service_level > plain.service_level
    assert r.p_abandon < plain.p_abandon
    assert r.occupancy * agents < lam * (1 - r.p_abandon) * aht
    assert (
        erlang_a(
            agents=agents,
            arrival_rate=lam,
            aht_s=aht,
            patience_s=patience,
            target_s=20,
            extra_rate=0.0,
        )
        == plain
    )


def test_the_outbound_stream_lowers_the_agents_kept() -> None:
    def kept(rate: float, outbound: int, level: float = 0.9) -> int:
        return agents_needed(
            arrival_rate=rate,
            aht_s=160.0,
            patience_s=60.0,
            service_level=level,
            outbound_agents=outbound,
            outbound_cycle_s=335.0,
        ).agents

    light, peak = 32 / 3600, 0.23
    assert kept(light, 0) == 4
    assert kept(light, 24) == 3
    # 60 agents on 335-second outbound cycles: one finishes every 5.6 s; a caller nobody
    # was kept for is answered within 20 s with P = γ/(γ+θ)·(1 − e^(−(γ+θ)·20)) ≈ 0.897
    # (they may hang up first): enough for 80 %, one kept agent short of 90 %
    assert kept(light, 60, 0.8) == 0
    assert kept(light, 60) == 1
    # a peak keeps busy every agent who could come back: the stream adds nothing
    assert kept(peak, 24) == kept(peak, 0)
