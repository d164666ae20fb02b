"""The desk: routing to the longest-idle agent with a desktop and a phone leg, live answers
waiting for an agent, what the desk tells a call; the lead's next steps."""

from __future__ import annotations

import datetime as dt

import pytest

from dialer.core.agents import AgentState
from dialer.core.calls import CallState
from dialer.core.routing import longest_idle
from dialer.errors import IllegalTransition
from dialer.live.campaign import live_campaign
from dialer.live.desk import LiveDesk
from dialer.live.inbox import AgentFound, AgentHungUp, AgentLost, DeskEvent, Disposed
from dialer.live.outcomes import DispositionEntry, after_dial, after_disposition
from dialer.store.campaigns import Campaign, CampaignStatus
from dialer.store.campaigns_config import CampaignConfig
from dialer.store.hopper import LeadStatus, LeasedLead, claim_order
from dialer.store.journeys import Journey, latencies


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def desk_with(ready_order: list[int], clock: Clock,
              posted: list[tuple[int, DeskEvent]] | None = None) -> LiveDesk:
    """Agents ready in this order, each with a desktop and a phone leg."""
    desk = LiveDesk(clock=clock)
    if posted is not None:
        desk.post = lambda attempt_id, event: posted.append((attempt_id, event))
    for agent_id in ready_order:
        desk.attach(agent_id, f"a{agent_id}")
        desk.leg_up(agent_id)
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


def test_an_agent_without_a_phone_leg_gets_no_calls() -> None:
    clock = Clock()
    wanted: list[int] = []
    desk = desk_with([1, 2], clock)
    desk.want_leg = wanted.append
    desk.leg_down(1, "network")
    assert wanted == [1]  # asked again while logged in
    found = desk.route(1, attempt_id=10)
    assert found is not None
    assert found.agent_id == 2
    assert desk.state_message(desk.agent(1))["phone"] is False


def test_route_reserves_at_once_when_an_agent_is_ready() -> None:
    desk = desk_with([5], Clock())
    agent = desk.route(1, attempt_id=10)
    assert agent is not None
    assert agent.agent_id == 5
    assert agent.state is AgentState.RESERVED


def test_the_ack_keeps_the_web_nodes_time_within_the_pop_and_now() -> None:
    """The web node that got the desktop's ack says when; its clock may be off."""
    desk = desk_with([1, 2, 3, 4], Clock())
    acks: list[tuple[int, dt.datetime]] = []
    desk.on_ack = lambda attempt_id, at: acks.append((attempt_id, at))
    for attempt_id in (10, 11, 12, 13):
        agent = desk.route(1, attempt_id=attempt_id)
        assert agent is not None
        desk.connect(agent, attempt_id=attempt_id, campaign_id=1, pop={})
    popped = {a: call.popped_at for a in (10, 11, 12, 13) if (call := desk.call_of(a))}
    before = dt.datetime.now(dt.UTC)
    heard = popped[10] + (before - popped[10]) / 2  # between the pop and now: kept
    assert desk.ack(1, 10, at=heard) == heard
    assert desk.ack(2, 11, at=popped[11] - dt.timedelta(seconds=5)) == popped[11]  # behind
    ahead = desk.ack(3, 12, at=before + dt.timedelta(hours=1))
    assert before <= ahead <= dt.datetime.now(dt.UTC)
    assert before <= desk.ack(4, 13) <= dt.datetime.now(dt.UTC)  # no time given: now
    assert desk.ack(1, 10, at=before) == heard  # the first ack counts
    assert [a for a, _ in acks] == [10, 11, 12, 13]


def test_a_waiting_answer_gets_the_first_agent_to_become_ready() -> None:
    posted: list[tuple[int, DeskEvent]] = []
    desk = desk_with([], Clock(), posted)
    desk.attach(7, "late")
    desk.leg_up(7)
    assert desk.route(1, attempt_id=10) is None
    assert len(desk.waiting_since(1)) == 1
    desk.ready(7, campaign_id=1)
    assert [(a, type(e)) for a, e in posted] == [(10, AgentFound)]
    found = posted[0][1]
    assert isinstance(found, AgentFound)
    assert found.agent.agent_id == 7
    assert found.agent.state is AgentState.RESERVED
    assert desk.waiting_since(1) == ()


def test_an_answer_that_stopped_waiting_gets_no_agent() -> None:
    posted: list[tuple[int, DeskEvent]] = []
    desk = desk_with([], Clock(), posted)
    assert desk.route(1, attempt_id=10) is None
    desk.stop_waiting(1, 10)
    desk.attach(7, "late")
    desk.leg_up(7)
    desk.ready(7, campaign_id=1)
    assert posted == []
    assert desk.agent(7).state is AgentState.READY


def test_hang_up_phone_drop_and_disposition_are_told_to_the_call() -> None:
    posted: list[tuple[int, DeskEvent]] = []
    desk = desk_with([1, 2], Clock(), posted)
    for agent_id, attempt_id in ((1, 10), (2, 20)):
        agent = desk.route(1, attempt_id=attempt_id)
        assert agent is not None
        assert agent.agent_id == agent_id  # longest idle first
        desk.connect(agent, attempt_id=attempt_id, campaign_id=1, pop={})
    desk.hangup(1, 10)
    desk.leg_down(2, "network")
    assert desk.agent(1).state is desk.agent(2).state is AgentState.WRAP_UP
    desk.dispose(DispositionEntry(code="sale", agent_id=1), attempt_id=10)
    assert [(a, type(e)) for a, e in posted] == [
        (10, AgentHungUp), (20, AgentLost), (10, Disposed)]
    assert desk.agent(1).state is AgentState.READY


def test_the_customer_hanging_up_puts_the_agent_in_wrap_up_with_the_reason() -> None:
    sent: list[tuple[int, dict[str, object]]] = []
    desk = desk_with([1], Clock())
    desk.send = lambda agent_id, message: sent.append((agent_id, message))
    agent = desk.route(1, attempt_id=10)
    assert agent is not None
    desk.connect(agent, attempt_id=10, campaign_id=1, pop={})
    desk.talk_ended(10, code="customer_hung_up", text="The customer hung up")
    assert agent.state is AgentState.WRAP_UP
    assert agent.attempt_id == 10  # the disposition is still to do
    notices = [m for _, m in sent if m["type"] == "notice"]
    assert notices == [{"type": "notice", "code": "customer_hung_up",
                        "text": "The customer hung up"}]


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
    step = after_dial(c, LEAD.attempts, CallState.NO_ANSWER, NOW)
    assert step.status is LeadStatus.NEW
    assert step.next_attempt_at is not None
    assert step.next_attempt_at > NOW
    assert after_dial(c, 5, CallState.NO_ANSWER, NOW).status is LeadStatus.EXHAUSTED


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


def test_scheduled_departures_reach_the_planners_snapshot() -> None:
    from dialer.core.pacing.base import OutcomeStats, PacingSettings
    from dialer.core.planner import Floor, build_snapshot

    clock = Clock()
    desk = desk_with([1, 2, 3], clock)
    desk.schedule(1, leaves_in_s=30.0)  # a break in half a minute
    desk.pause(3, reason="break", back_in_s=600.0)
    assert desk.state_message(desk.agent(1))["leaves_in_s"] == 30.0
    assert desk.state_message(desk.agent(3))["back_in_s"] == 600.0
    snap = build_snapshot(now_s=clock(), floor=Floor.of(desk.agents_on(1),
                                                        routable=desk.routable),
                          dialed_at_s=(), answered_at_s=(), stats=OutcomeStats(),
                          settings=PacingSettings())
    assert sorted(snap.ready_leave_s) == [30.0, float("inf")]
    assert snap.paused_return_s == (600.0,)
    desk.ready(3, campaign_id=1)  # back from the break: no return pending
    desk.schedule(1, leaves_in_s=None)  # the break was called off
    assert desk.agent(3).core.returns_at_s is None
    assert desk.agent(1).core.leaves_at_s is None


def test_transfer_targets_follow_the_call_campaign_or_inbound_queue() -> None:
    clock = Clock()
    desk = desk_with([1, 2, 3], clock)
    desk.ready(3, campaign_id=2)  # ready on another campaign
    skills = {1: {7}, 2: {7}, 3: {7}}  # all skilled for queue 7
    desk.skilled = lambda queue_id, agent_id: queue_id in skills.get(agent_id, set())
    agent = desk.agent(1)
    desk.reserve(agent)
    desk.connect(agent, attempt_id=50, campaign_id=1, pop={})
    # an outbound call: the others ready on its campaign
    assert [t["agent_id"] for t in desk.transfer_targets(1)] == [2]
    with pytest.raises(IllegalTransition):
        desk.transfer_target(1, 3)
    with pytest.raises(IllegalTransition):
        desk.transfer_target(1, 1)
    desk.drop_call(50)
    desk.reserve(agent)
    desk.connect(agent, attempt_id=51, campaign_id=1, pop={}, queue_id=7)
    # an inbound call: whoever is ready with a skill on its queue, whatever the campaign
    assert [t["agent_id"] for t in desk.transfer_targets(1)] == [2, 3]
    desk.pause(2, reason="break")
    assert desk.transfer_target(1, 3).agent_id == 3
    with pytest.raises(IllegalTransition):
        desk.transfer_target(1, 2)  # not ready
    desk.transfer(51, to=desk.agent(3))
    # the call keeps its queue on the new agent: agent 1, ready again, may take it back
    assert [t["agent_id"] for t in desk.transfer_targets(3)] == [1]
