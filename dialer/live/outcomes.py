"""What becomes of a lead after an attempt. Pure code."""

from __future__ import annotations

import dataclasses
import datetime as dt

from dialer.core.calls import CallState
from dialer.live.campaign import LiveCampaign
from dialer.store.hopper import LeadStatus, LeasedLead


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DispositionEntry:
    code: str  # one of the campaign's disposition codes (checked by the caller)
    agent_id: int
    callback_at: dt.datetime | None = None
    callback_mine: bool = False  # own callback: only this agent gets it back
    note: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class NextStep:
    """What becomes of the lead after an attempt."""

    status: LeadStatus
    next_attempt_at: dt.datetime | None = None
    callback_at: dt.datetime | None = None
    callback_agent_id: int | None = None


def after_dial(campaign: LiveCampaign, attempts: int, outcome: CallState,
               now: dt.datetime) -> NextStep:
    """A dial that reached no agent (busy, no answer, machine, failed, abandoned);
    `attempts` made before this one."""
    if attempts + 1 >= campaign.compliance.max_attempts_total:
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
