"""Routing by skill and overflow, VIP first, position and wait announcements, blending's
hold-back rule."""

from __future__ import annotations

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
from dialer.inbound.blending import Candidate, NeedCurve, choose_held, hold_count

ORDERS = QueueRule(queue_id=1, name="order-line", overflow_s=15.0)
VIP = QueueRule(queue_id=2, name="vip", priority=10, overflow_s=10.0)
RULES = {1: ORDERS, 2: VIP}


def agent(agent_id: int, free_since: float | None, **skills: int) -> AgentView:
    ids = {"orders": 1, "vip": 2}
    return AgentView(agent_id=agent_id, skills={ids[k]: v for k, v in skills.items()},
                     free_since_s=free_since)


def test_best_level_first_then_longest_idle() -> None:
    agents = [agent(1, 5.0, orders=2), agent(2, 50.0, orders=1), agent(3, 10.0, orders=1),
              agent(4, 0.0, vip=1)]
    assert pick_agent(ORDERS, 0.0, agents).agent_id == 3  # type: ignore[union-attr]
    busy = [agent(1, 5.0, orders=2), agent(2, None, orders=1)]
    assert pick_agent(ORDERS, 14.9, busy) is None  # level 2 waits for the overflow
    assert pick_agent(ORDERS, 15.0, busy).agent_id == 1  # type: ignore[union-attr]
    assert allowed_level(ORDERS, 31.0) == 3
    assert next_overflow_s(ORDERS, 20.0) == 10.0


def test_freed_agent_takes_vip_first_then_longest_wait() -> None:
    waiting = [Waiting(call_id="a", queue_id=1, since_s=0.0),
               Waiting(call_id="b", queue_id=2, since_s=50.0),
               Waiting(call_id="c", queue_id=1, since_s=-5.0)]
    both = agent(1, 60.0, orders=1, vip=1)
    assert pick_call(both, waiting, RULES, now_s=60.0).call_id == "b"  # type: ignore[union-attr]
    orders_only = agent(2, 60.0, orders=1)
    assert pick_call(orders_only, waiting, RULES, now_s=60.0).call_id == "c"  # type: ignore[union-attr]
    # a level-3 agent on VIP may take a VIP call only after two overflow steps
    backup = agent(3, 60.0, vip=3)
    assert pick_call(backup, waiting[1:2], RULES, now_s=65.0) is None
    assert pick_call(backup, waiting[1:2], RULES, now_s=70.0) is not None


def test_position_counts_callbacks_holding_a_place() -> None:
    waiting = [Waiting(call_id="cb", queue_id=1, since_s=1.0, callback=True),
               Waiting(call_id="x", queue_id=1, since_s=2.0),
               Waiting(call_id="other", queue_id=2, since_s=0.0),
               Waiting(call_id="me", queue_id=1, since_s=3.0)]
    assert position(waiting[-1], waiting) == 3
    assert position(waiting[0], waiting) == 1
    wait = estimated_wait_s(position=3, agents=6, aht_s=240.0)
    assert wait == 120.0
    assert announced_minutes(wait) == 2
    assert announced_minutes(61.0) == 2
    assert announced_minutes(5.0) == 1
    assert estimated_wait_s(position=1, agents=0, aht_s=240.0) == float("inf")


def test_hold_back_looks_ahead_and_counts_calls_waiting() -> None:
    curve = NeedCurve(start_s=0.0, step_s=60.0, needs=(0, 0, 0, 12, 20, 8, 0))
    assert curve.ahead(0.0, lead_s=120.0) == 0
    assert curve.ahead(60.0, lead_s=120.0) == 12  # airtime is two minutes away
    assert curve.ahead(300.0, lead_s=60.0) == 8  # the curve falls: agents go back
    assert hold_count(need_ahead=3, waiting=4, on_inbound=2, skilled=30) == 6
    assert hold_count(need_ahead=40, waiting=0, on_inbound=0, skilled=30) == 30
    cands = [Candidate(agent_id=1, level=2, free=True, busy_for_s=0.0),
             Candidate(agent_id=2, level=1, free=False, busy_for_s=30.0),
             Candidate(agent_id=3, level=1, free=False, busy_for_s=200.0),
             Candidate(agent_id=4, level=1, free=True, busy_for_s=0.0)]
    assert choose_held(cands, 2) == {4, 3}
    assert choose_held(cands, 2, held_before=frozenset({1})) == {1, 4}


def test_need_curve_from_rates_uses_erlang_a() -> None:
    curve = NeedCurve.from_rates([0.0, 0.5, 1.0], start_s=0.0, step_s=60.0, aht_s=120.0,
                                 patience_s=60.0)
    assert curve.needs[0] == 0
    assert 0 < curve.needs[1] < curve.needs[2]
