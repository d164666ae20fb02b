"""Routing by skill and overflow, VIP first, position and wait announcements, blending's
hold-back rule."""

from __future__ import annotations

import dataclasses
import itertools
import math

from dialer.inbound.acd import (
    AgentView,
    QueueRule,
    Waiting,
    allowed_level,
    announced_minutes,
    estimated_wait_s,
    next_overflow_s,
    pick_agent,
    pick_call,
    position,
)
from dialer.inbound.blending import (
    NeedCurve,
    Seat,
    TalkModel,
    hold_set,
    lead_for,
    offered_rates,
)

ORDERS = QueueRule(queue_id=1, name="order-line", overflow_s=15.0)
VIP = QueueRule(queue_id=2, name="vip", priority=10, overflow_s=10.0)
RULES = {1: ORDERS, 2: VIP}


def agent(agent_id: int, free_since: float | None, **skills: int) -> AgentView:
    ids = {"orders": 1, "vip": 2}
    return AgentView(
        agent_id=agent_id, skills={ids[k]: v for k, v in skills.items()}, free_since_s=free_since
    )


def test_best_level_first_then_longest_idle() -> None:
    agents = [
        agent(1, 5.0, orders=2),
        agent(2, 50.0, orders=1),
        agent(3, 10.0, orders=1),
        agent(4, 0.0, vip=1),
    ]
    assert pick_agent(ORDERS, 0.0, agents).agent_id == 3  # type: ignore[union-attr]
    busy = [agent(1, 5.0, orders=2), agent(2, None, orders=1)]
    assert pick_agent(ORDERS, 14.9, busy) is None  # level 2 waits for the overflow
    assert pick_agent(ORDERS, 15.0, busy).agent_id == 1  # type: ignore[union-attr]
    assert allowed_level(ORDERS, 31.0) == 3
    assert next_overflow_s(ORDERS, 20.0) == 10.0
    # a wait a hair under a step (clock sums in floats) still moves the clock forward
    step = next_overflow_s(ORDERS, 14400.0 + 15.0 - 14400.0 - 1e-12)
    assert step is not None
    assert step >= 0.001


def test_freed_agent_takes_vip_first_then_longest_wait() -> None:
    waiting = [
        Waiting(call_id="a", queue_id=1, since_s=0.0),
        Waiting(call_id="b", queue_id=2, since_s=50.0),
        Waiting(call_id="c", queue_id=1, since_s=-5.0),
    ]
    both = agent(1, 60.0, orders=1, vip=1)
    assert pick_call(both, waiting, RULES, now_s=60.0).call_id == "b"  # type: ignore[union-attr]
    orders_only = agent(2, 60.0, orders=1)
    assert pick_call(orders_only, waiting, RULES, now_s=60.0).call_id == "c"  # type: ignore[union-attr]
    # a level-3 agent on VIP may take a VIP call only after two overflow steps
    backup = agent(3, 60.0, vip=3)
    assert pick_call(backup, waiting[1:2], RULES, now_s=65.0) is None
    assert pick_call(backup, waiting[1:2], RULES, now_s=70.0) is not None


def test_position_counts_callbacks_holding_a_place() -> None:
    waiting = [
        Waiting(call_id="cb", queue_id=1, since_s=1.0, callback=True),
        Waiting(call_id="x", queue_id=1, since_s=2.0),
        Waiting(call_id="other", queue_id=2, since_s=0.0),
        Waiting(call_id="me", queue_id=1, since_s=3.0),
    ]
    assert position(waiting[-1], waiting) == 3
    assert position(waiting[0], waiting) == 1
    wait = estimated_wait_s(position=3, agents=6, aht_s=240.0)
    assert wait == 120.0
    assert announced_minutes(wait) == 2
    assert announced_minutes(61.0) == 2
    assert announced_minutes(5.0) == 1
    assert estimated_wait_s(position=1, agents=0, aht_s=240.0) == float("inf")


TALK = TalkModel(talk_mean_s=280.0, talk_sd_s=160.0, wrap_mean_s=40.0)


def seats(free: int, talking: list[float]) -> list[Seat]:
    out = [Seat(agent_id=i, level=1, inbound=True) for i in range(free)]
    out += [Seat(agent_id=100 + i, level=1, talking_for_s=t) for i, t in enumerate(talking)]
    return out


def test_hold_nobody_far_from_airtime_and_more_as_it_nears() -> None:
    curve = NeedCurve(start_s=0.0, step_s=60.0, needs=(0,) * 20 + (12,) * 10)  # air at 1200 s
    crew = seats(3, [30.0 * i for i in range(30)])
    assert curve.ahead(0.0, lead_s=600.0) == 0
    assert hold_set(need=curve, now_s=0.0, lead_s=600.0, seats=crew, talk=TALK) == frozenset()
    early = hold_set(need=curve, now_s=700.0, lead_s=600.0, seats=crew, talk=TALK)
    late = hold_set(need=curve, now_s=1140.0, lead_s=600.0, seats=crew, talk=TALK)
    assert 0 < len(early) < len(late)
    # eight minutes ahead, those likeliest to have finished their call by airtime are held
    # (a call just started is not; nor, talk times being lognormal, one far into a long
    # call); a free agent has time for one more outbound call first, and is lent to it
    assert early - {0, 1, 2}
    assert 100 not in early
    assert 129 not in early
    assert not {0, 1, 2} <= early
    # a minute ahead there is no time for another call: the free agents are held
    assert {0, 1, 2} <= late


def test_hold_plan_follows_the_order_curve() -> None:
    # quiet, a broadcast from 1200 s whose calls fall from 12 agents' worth to 6, then off
    curve = NeedCurve(start_s=0.0, step_s=60.0, needs=(0,) * 20 + (12,) * 5 + (6,) * 5 + (0,) * 20)
    talking = [25.0 * i for i in range(40)]

    def held(now_s: float, free: int = 0) -> int:
        crew = seats(free, talking[: 40 - free])
        return len(hold_set(need=curve, now_s=now_s, lead_s=560.0, seats=crew, talk=TALK))

    # ahead of airtime, more the closer it is (agents still on their calls are held so
    # that enough of them are done by then), none far from it
    assert held(0.0) == 0
    assert 0 < held(700.0) <= held(900.0) <= held(1100.0)
    assert held(1100.0) >= 12
    # on air with the agents free for it: as the curve falls, agents go back to outbound
    assert held(1210.0, free=14) >= 12
    assert 6 <= held(1510.0, free=14) < held(1210.0, free=14)
    assert held(1810.0, free=14) == 0
    assert held(1810.0) == 0


def test_agents_answering_inbound_go_back_when_the_need_is_over() -> None:
    answering = [Seat(agent_id=i, level=1, inbound=True, on_inbound_call=True) for i in range(4)]
    busy_now = NeedCurve(start_s=0.0, step_s=60.0, needs=(4,) * 2 + (0,) * 10)
    assert len(hold_set(need=busy_now, now_s=0.0, lead_s=300.0, seats=answering, talk=TALK)) == 4
    # nothing ahead: they answer the callers they have and are lent to outbound after
    assert (
        hold_set(need=busy_now, now_s=130.0, lead_s=300.0, seats=answering, talk=TALK)
        == frozenset()
    )


def test_calls_waiting_hold_agents_whatever_the_forecast() -> None:
    quiet = NeedCurve(start_s=0.0, step_s=60.0, needs=(0,) * 10)
    held = hold_set(need=quiet, now_s=0.0, lead_s=300.0, seats=seats(5, []), talk=TALK, floor=3)
    assert len(held) == 3
    kept = hold_set(
        need=quiet,
        now_s=0.0,
        lead_s=300.0,
        seats=seats(5, []),
        talk=TALK,
        floor=2,
        held_before=frozenset({4}),
    )
    assert 4 in kept


def test_talk_model_free_within() -> None:
    assert TALK.free_within(talking_for_s=0.0, wrapping_for_s=None, within_s=30.0) == 0.0
    soon = TALK.free_within(talking_for_s=600.0, wrapping_for_s=None, within_s=300.0)
    fresh = TALK.free_within(talking_for_s=0.0, wrapping_for_s=None, within_s=300.0)
    assert 0.0 < fresh < soon <= 1.0
    assert TALK.free_within(talking_for_s=None, wrapping_for_s=35.0, within_s=10.0) == 1.0
    # an agent in wrap-up is not free this instant, even past the mean wrap time
    assert TALK.free_within(talking_for_s=None, wrapping_for_s=90.0, within_s=0.0) == 0.0
    assert TALK.free_within(talking_for_s=None, wrapping_for_s=90.0, within_s=30.0) == 1.0
    assert lead_for(280.0, 160.0, 40.0) == 560.0
    # one profile for a window is the points one by one
    taus = [0.0, 30.0, 200.0, 500.0]
    assert TALK.free_profile(talking_for_s=120.0, wrapping_for_s=None, within_s=taus) == [
        TALK.free_within(talking_for_s=120.0, wrapping_for_s=None, within_s=t) for t in taus
    ]
    # a free agent given one more call: back after the wait for an answer, talk and wrap
    waiting = dataclasses.replace(TALK, connect_wait_s=15.0)
    assert waiting.cycle_within(55.0) == 0.0
    assert 0.0 < waiting.cycle_within(300.0) < TALK.cycle_within(300.0) < 1.0
    assert waiting.cycle_within(900.0) > 0.95


def test_need_curve_from_rates_uses_erlang_a() -> None:
    curve = NeedCurve.from_rates(
        [0.0, 0.5, 1.0], start_s=0.0, step_s=60.0, aht_s=120.0, patience_s=60.0
    )
    assert curve.needs[0] == 0
    assert 0 < curve.needs[1] < curve.needs[2]


def test_offered_load_builds_up_over_a_handling_time_and_lags_the_fall() -> None:
    aht = 160.0
    # a steady rate is its own load
    assert offered_rates([0.2] * 5, step_s=30.0, aht_s=aht) == [0.2] * 5
    # calls from nothing to 0.2/s: those in service build up as 1 - e^(-t/AHT), not at once
    ramp = offered_rates([0.0] + [0.2] * 40, step_s=30.0, aht_s=aht)
    first = ramp[1]  # the mean over the first 30 s of 0.2 (1 - e^(-t/160))
    assert math.isclose(first, 0.2 * (1.0 - aht / 30.0 * (1.0 - math.exp(-30.0 / aht))))
    assert first < 0.02
    assert all(a < b for a, b in itertools.pairwise(ramp[1:21]))
    assert 0.19 < ramp[20] < 0.2  # nearly four handling times on: nearly steady
    assert math.isclose(ramp[-1], 0.2, rel_tol=1e-3)
    # and when calls stop, agents are still busy with the last ones for a while
    fall = offered_rates([0.2] * 10 + [0.0] * 30, step_s=30.0, aht_s=aht)
    assert fall[10] > 0.1
    assert fall[-1] < 0.002


def test_need_curve_on_the_offered_load_rises_with_the_calls_in_service() -> None:
    # a broadcast's ramp: the steady need is reached about an AHT after the rate, and a
    # long steady rate needs the same agents either way
    rates = [0.005] * 20 + [0.2] * 40
    kw = {"start_s": 0.0, "step_s": 30.0, "aht_s": 160.0, "patience_s": 60.0}
    steady = NeedCurve.from_rates(rates, **kw)
    built = NeedCurve.from_rates(rates, offered_load=True, **kw)
    assert built.needs[:20] == steady.needs[:20]
    assert built.at(615.0) < steady.at(615.0) / 2  # a quarter of a minute after the calls begin
    assert built.at(1790.0) == steady.at(1790.0)
    assert all(a <= b for a, b in zip(built.needs, steady.needs, strict=True))
