"""One dial from lease to disposition: the telephony port, routing, the screen pop, the
journey's timestamps, the lead's next step and the customer's contact history."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from crm import contacts, dnc
from dialer.core.calls import CallState
from dialer.core.pacing.base import OutcomeKind
from dialer.core.routing import LiveAgent
from dialer.live.campaign_loop import CampaignLoop, LiveCampaign
from dialer.live.desk import MAX_CALL_S, DispositionEntry
from dialer.store import hopper, journeys
from dialer.store.hopper import LeadStatus, LeasedLead
from dialer.store.journeys import Journey, utcnow

if TYPE_CHECKING:
    from dialer.live.runtime import DialerRuntime

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class NextStep:
    """What becomes of the lead after an attempt."""

    status: LeadStatus
    next_attempt_at: dt.datetime | None = None
    callback_at: dt.datetime | None = None
    callback_agent_id: int | None = None


def after_dial(campaign: LiveCampaign, lead: LeasedLead, outcome: CallState,
               now: dt.datetime) -> NextStep:
    """A dial that reached no agent (busy, no answer, machine, failed, abandoned)."""
    if lead.attempts + 1 >= campaign.compliance.max_attempts_total:
        return NextStep(status=LeadStatus.EXHAUSTED)
    delay_s = campaign.compliance.retry_delay_s.get(outcome, 0.0)
    return NextStep(status=LeadStatus.NEW, next_attempt_at=now + dt.timedelta(seconds=delay_s))


def after_disposition(campaign: LiveCampaign, lead: LeasedLead, entry: DispositionEntry,
                      now: dt.datetime) -> NextStep:
    """The agent's disposition decides: done, do-not-call, a callback or a retry."""
    rule = campaign.dispositions.get(entry.code)
    if rule is not None and rule.adds_to_dnc:
        return NextStep(status=LeadStatus.DNC)
    if rule is None or rule.final:
        return NextStep(status=LeadStatus.DONE)
    if rule.callback and entry.callback_at is not None:
        mine = entry.callback_mine and campaign.callbacks.allow_personal
        return NextStep(status=LeadStatus.NEW, next_attempt_at=entry.callback_at,
                        callback_at=entry.callback_at,
                        callback_agent_id=entry.agent_id if mine else None)
    exhausted = lead.attempts + 1 >= campaign.compliance.max_attempts_total
    if exhausted or (rule.retry_after_min is not None and lead.attempts >= rule.max_retries):
        return NextStep(status=LeadStatus.EXHAUSTED)
    retry_s = 60.0 * (rule.retry_after_min or 0)
    return NextStep(status=LeadStatus.NEW, next_attempt_at=now + dt.timedelta(seconds=retry_s))


async def run_call(
    rt: DialerRuntime,
    campaign: LiveCampaign,
    lead: LeasedLead,
    *,
    attempt_id: int,
    loop: CampaignLoop | None,
    agent: LiveAgent | None = None,
    pop: dict[str, Any] | None = None,
) -> None:
    """Dial `lead`. `agent` is set in preview mode: that agent is held for this call."""
    desk, clock = rt.desk, rt.desk.clock
    journey = Journey(attempt_id=attempt_id, campaign_id=campaign.campaign_id,
                      lead_id=lead.lead_id, dialer=rt.owner,
                      mode="preview" if agent is not None else "predictive",
                      queued_at=utcnow())
    rt.journeys[attempt_id] = journey
    pop_task: asyncio.Task[dict[str, Any]] | None = None
    try:
        if pop is None:  # built while the phone rings, so the answer finds it ready
            pop_task = asyncio.create_task(rt.build_pop(campaign, lead, attempt_id),
                                           name=f"pop-{attempt_id}")
        journey.dialed_at = utcnow()
        async with rt.pool.acquire() as conn:
            await journeys.save(conn, journey)
        dialed_s = clock()
        if loop is not None:
            loop.in_flight[attempt_id] = dialed_s

        def ringing() -> None:
            journey.ringing_at = utcnow()

        try:
            result = await rt.port.dial(call_id=attempt_id, phone_e164=lead.phone_e164,
                                        max_ring_s=campaign.compliance.max_ring_s,
                                        on_ringing=ringing)
        finally:
            if loop is not None:
                loop.in_flight.pop(attempt_id, None)
        if loop is not None:
            loop.observe(OutcomeKind(result.outcome.value), clock() - dialed_s)
        if result.outcome is not CallState.ANSWERED_LIVE:
            if agent is not None:
                desk.release(agent)
                desk.send(agent.agent_id, {"type": "notice",
                                           "text": f"no live answer: {result.outcome.value}"})
            await _close(rt, campaign, lead, journey, outcome=result.outcome.value,
                         step=after_dial(campaign, lead, result.outcome, utcnow()))
            return
        journey.answered_at = utcnow()
        answered_s = clock()
        if agent is None:
            agent = await desk.route(campaign.campaign_id,
                                     window_s=campaign.compliance.connect_window_s)
        if agent is None:
            await rt.port.safe_harbor(call_id=attempt_id)
            if loop is not None:
                loop.observe(OutcomeKind.ABANDONED, clock() - answered_s)
            await _close(rt, campaign, lead, journey, outcome=CallState.ABANDONED.value,
                         step=after_dial(campaign, lead, CallState.ABANDONED, utcnow()))
            return
        await rt.port.bridge(call_id=attempt_id, agent_id=agent.agent_id)
        journey.agent_connected_at = utcnow()
        journey.agent_id = agent.agent_id
        connected_s = clock()
        if pop is None:
            assert pop_task is not None
            pop = await pop_task  # normally ready: built while the phone rang
        call = desk.connect(agent, attempt_id=attempt_id, pop=pop)
        if loop is not None:
            loop.observe(OutcomeKind.CONNECTED, connected_s - answered_s)
        rt.observe_latencies(journey)
        async with rt.pool.acquire() as conn:  # after the pop went out: off the fast path
            await journeys.save(conn, journey)
        try:
            entry = await asyncio.wait_for(asyncio.shield(call.ended), MAX_CALL_S)
        except TimeoutError:
            entry = DispositionEntry(code="no_disposition", agent_id=agent.agent_id)
        ended_s = clock()
        await rt.port.hangup(call_id=attempt_id)
        if loop is not None:
            hung_s = call.hung_up_s if call.hung_up_s is not None else ended_s
            loop.observe(OutcomeKind.TALK_ENDED, hung_s - connected_s)
            loop.observe(OutcomeKind.WRAP_ENDED, ended_s - hung_s)
        if call.acked.done():
            journey.pop_acked_at = call.acked.result()
        await _close(rt, campaign, lead, journey, outcome=CallState.ANSWERED_LIVE.value,
                     step=after_disposition(campaign, lead, entry, utcnow()), entry=entry)
    except asyncio.CancelledError:
        raise  # shutting down: the lease lapses and the lead comes back
    except Exception:
        log.exception("call %s (lead %s) failed", attempt_id, lead.lead_id)
        if agent is not None:
            desk.release(agent)
    finally:
        rt.journeys.pop(attempt_id, None)
        if pop_task is not None and not pop_task.done():
            pop_task.cancel()


async def _close(
    rt: DialerRuntime,
    campaign: LiveCampaign,
    lead: LeasedLead,
    journey: Journey,
    *,
    outcome: str,
    step: NextStep,
    entry: DispositionEntry | None = None,
) -> None:
    """One transaction: the attempt on the customer's timeline, the journey, the lead."""
    journey.outcome = entry.code if entry is not None else outcome
    journey.ended_at = utcnow()
    details: dict[str, Any] = {"lead_id": lead.lead_id, "dialer": rt.owner,
                               "mode": journey.mode}
    if entry is not None:
        details["note"] = entry.note
        if entry.callback_at is not None:
            details["callback_at"] = entry.callback_at.isoformat()
            details["callback_mine"] = step.callback_agent_id is not None
    async with rt.pool.acquire() as conn, conn.transaction():
        await contacts.record_attempt(conn, contacts.Attempt(
            attempt_id=journey.attempt_id, customer_id=lead.customer_id,
            campaign_id=campaign.campaign_id, phone_e164=lead.phone_e164,
            at=journey.dialed_at or journey.queued_at, outcome=outcome,
            disposition=entry.code if entry is not None else None, agent_id=journey.agent_id,
            details=details,
        ))  # fmt: skip
        await journeys.save(conn, journey)
        if step.status is LeadStatus.DNC:
            # through crm, which writes the audit row beside the do-not-call entry
            await dnc.add_internal(
                conn, phone_e164=lead.phone_e164,
                source=f"agent {journey.agent_id} on attempt {journey.attempt_id}",
                actor=f"agent:{journey.agent_id}",
            )  # fmt: skip
        kept = await hopper.finish(
            conn, lead_id=lead.lead_id, owner=rt.owner, status=step.status, outcome=outcome,
            next_attempt_at=step.next_attempt_at, callback_at=step.callback_at,
            callback_agent_id=step.callback_agent_id,
        )  # fmt: skip
        if not kept:
            log.warning("lead %s: lease lost before attempt %s ended", lead.lead_id,
                        journey.attempt_id)
