"""Routing to the longest-idle agent, waiting within the connect window, lead next steps."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from dialer.core.agents import AgentState
from dialer.core.calls import CallState
from dialer.core.routing import longest_idle
from dialer.live.call import after_dial, after_disposition
from dialer.live.campaign_loop import live_campaign
from dialer.live.desk import DispositionEntry, LiveDesk
from dialer.store.campaigns import Campaign, CampaignStatus
from dialer.store.campaigns_config import CampaignConfig
from dialer.store.hopper import LeadStatus, LeasedLead, claim_order
from dialer.store.journeys import Journey, latencies


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def desk_with(ready_order: list[int], clock: Clock) -> LiveDesk:
    desk = LiveDesk(clock=clock)
    for agent_id in ready_order:
        desk.attach(agent_id, f"a{agent_id}")
        desk.ready(agent_id, campaign_id=1)
        clock.now += 1.0
    return desk


def test_longest_idle_ready_agent_of_the_campaign_wins() -> None:
    clock = Clock()
    desk = desk_with([3, 1, 2], clock)
    first = longest_idle(desk.agents.values(), 1)
    assert first is not None
    assert first.agent_id == 3  # ready first
    assert longest_idle(desk.agents.values(), 2) is None  # other campaign


def test_unreachable_paused_and_preview_agents_get_no_calls() -> None:
    clock = Clock()
    desk = desk_with([1, 2, 3, 4], clock)
    desk.detach(1)  # websocket gone
    desk.pause(2, reason="break")
    desk.ready(3, campaign_id=1, preview=True)
    found = longest_idle(desk.agents.values(), 1)
    assert found is not None
    assert found.agent_id == 4


def test_agent_back_from_a_call_queues_behind_those_waiting_longer() -> None:
    clock = Clock()
    desk = desk_with([1, 2], clock)
    agent = desk.agent(1)
    agent.core.transition(AgentState.RESERVED, at_s=clock.now)
    clock.now += 5
    agent.core.transition(AgentState.READY, at_s=clock.now)  # idle again, newest
    found = longest_idle(desk.agents.values(), 1)
    assert found is not None
    assert found.agent_id == 2


async def test_route_reserves_at_once_when_an_agent_is_ready() -> None:
    clock = Clock()
    desk = desk_with([5], clock)
    agent = await desk.route(1, window_s=0.5)
    assert agent is not None
    assert agent.agent_id == 5
    assert agent.state is AgentState.RESERVED


async def test_route_waits_for_the_first_agent_to_become_ready() -> None:
    clock = Clock()
    desk = desk_with([], clock)
    desk.attach(7, "late")
    waiting = asyncio.create_task(desk.route(1, window_s=5.0))
    await asyncio.sleep(0)  # let the call join the queue
    assert len(desk.waiting_s(1)) == 1
    desk.ready(7, campaign_id=1)
    agent = await asyncio.wait_for(waiting, 1.0)
    assert agent is not None
    assert agent.agent_id == 7
    assert agent.state is AgentState.RESERVED
    assert desk.waiting_s(1) == ()


async def test_route_gives_up_after_the_connect_window() -> None:
    desk = desk_with([], Clock())
    assert await desk.route(1, window_s=0.01) is None
    assert desk.waiting_s(1) == ()


def test_disposition_needs_the_agents_own_call() -> None:
    from dialer.errors import NoSuchCall

    desk = desk_with([1], Clock())
    with pytest.raises(NoSuchCall):
        desk.dispose(DispositionEntry(code="sale", agent_id=1), attempt_id=99)


def _campaign() -> Campaign:
    now = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    return Campaign(id=1, status=CampaignStatus.RUNNING, config=CampaignConfig(name="c"),
                    lead_counts={}, created_by="t", created_at=now, started_at=now,
                    stopped_at=None)


LEAD = LeasedLead(lead_id=1, campaign_id=1, customer_id=1, phone_e164="+821012345678",
                  priority=100, position=1, attempts=0)
NOW = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)


def test_dispositions_decide_the_leads_next_step() -> None:
    c = live_campaign(_campaign())
    assert after_disposition(c, LEAD, DispositionEntry(code="sale", agent_id=1),
                             NOW).status is LeadStatus.DONE
    assert after_disposition(c, LEAD, DispositionEntry(code="do_not_call", agent_id=1),
                             NOW).status is LeadStatus.DNC
    at = NOW + dt.timedelta(hours=2)
    mine = after_disposition(c, LEAD, DispositionEntry(code="callback", agent_id=9,
                                                       callback_at=at, callback_mine=True), NOW)
    assert (mine.status, mine.callback_at, mine.callback_agent_id) == (LeadStatus.NEW, at, 9)
    anyone = after_disposition(c, LEAD, DispositionEntry(code="callback", agent_id=9,
                                                         callback_at=at), NOW)
    assert anyone.callback_agent_id is None
    assert anyone.next_attempt_at == at


def test_no_answer_retries_later_until_the_attempt_limit() -> None:
    c = live_campaign(_campaign())
    step = after_dial(c, LEAD, CallState.NO_ANSWER, NOW)
    assert step.status is LeadStatus.NEW
    assert step.next_attempt_at is not None
    assert step.next_attempt_at > NOW
    last = dataclasses.replace(LEAD, attempts=5)
    assert after_dial(c, last, CallState.NO_ANSWER, NOW).status is LeadStatus.EXHAUSTED


def test_claim_order_is_callbacks_then_priority_then_position() -> None:
    def lead(i: int, prio: int, pos: int, cb: bool = False) -> LeasedLead:
        return LeasedLead(lead_id=i, campaign_id=1, customer_id=i, phone_e164="+8210",
                          priority=prio, position=pos, attempts=0,
                          callback_at=NOW if cb else None)

    leads = [lead(1, 100, 1), lead(2, 50, 9), lead(3, 100, 0), lead(4, 200, 5, cb=True)]
    assert [x.lead_id for x in sorted(leads, key=claim_order)] == [4, 2, 3, 1]


def test_journey_latencies() -> None:
    t = NOW
    j = Journey(attempt_id=1, campaign_id=1, lead_id=1, dialer="d", queued_at=t,
                dialed_at=t, answered_at=t + dt.timedelta(seconds=8),
                agent_connected_at=t + dt.timedelta(seconds=8.004),
                pop_acked_at=t + dt.timedelta(seconds=8.02))
    got = latencies(j)
    assert got["dial_to_answer"] == pytest.approx(8.0)
    assert got["answer_to_agent"] == pytest.approx(0.004)
    assert got["answer_to_screen_pop"] == pytest.approx(0.02)
