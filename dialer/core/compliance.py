"""The compliance guard: every dial passes it, whatever the pacing strategy asked for.

Pure code: a lead record, the campaign's settings and `now` (timezone-aware) in; `Allowed`
or a `Refusal` naming its rule out. The live dialer and the simulator share it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from dialer.core.abandon import UK_WINDOW_S, US_WINDOW_S
from dialer.core.calls import CallState
from dialer.core.timezones import (
    ALL_DAY,
    CallingWindow,
    in_window,
    lead_zones,
    window_seconds_between,
)
from dialer.errors import ComplianceSettingsError

MIN_RING_S = 15.0  # FCC / Ofcom: ring an unanswered call at least this long
MAX_CONNECT_WINDOW_S = 2.0  # FCC / Ofcom: agent on the line within 2 s of the answer
UK_REDIAL_AFTER_ABANDON_S = 72 * 3600.0


class Rule(enum.Enum):
    DO_NOT_CALL = "do_not_call"
    NO_MARKETING_CONSENT = "no_marketing_consent"
    CALLING_WINDOW = "calling_window"
    NIGHT_CONSENT = "night_consent"
    ATTEMPTS_TOTAL = "attempts_total"
    ATTEMPTS_PER_DAY = "attempts_per_day"
    RETRY_DELAY = "retry_delay"
    UK_ABANDON_REDIAL = "uk_abandon_redial"
    ABANDON_CAP = "abandon_cap"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Refusal:
    rule: Rule
    detail: str
    lead_id: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Allowed:
    lead_id: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AttemptRecord:
    at: dt.datetime
    outcome: CallState


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LeadRecord:
    lead_id: int
    phone_e164: str
    tz_override: str | None = None  # the customer's address zone, when known
    dnc: bool = False
    consent_marketing: bool = False
    consent_night: bool = False
    attempts: tuple[AttemptRecord, ...] = ()
    last_abandoned_at: dt.datetime | None = None


DEFAULT_RETRY_DELAY_S: Mapping[CallState, float] = MappingProxyType({
    CallState.BUSY: 15 * 60.0,
    CallState.NO_ANSWER: 2 * 3600.0,
    CallState.ANSWERED_MACHINE: 4 * 3600.0,
    CallState.FAILED: 30 * 60.0,
    CallState.ABANDONED: 24 * 3600.0,
    CallState.COMPLETED: 24 * 3600.0,
})


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ComplianceSettings:
    """A campaign's compliance settings with lawful defaults (see COMPLIANCE.md)."""

    abandon_cap: float = 0.03
    uk_mode: bool = False  # Ofcom: 24 h window, machine-adjusted rate, 72 h redial rule
    abandon_window_s: float | None = None  # None: 30 days, or 24 h in UK mode
    connect_window_s: float = MAX_CONNECT_WINDOW_S
    max_ring_s: float = 20.0
    day_window: CallingWindow = dataclasses.field(default_factory=CallingWindow)
    night_calling: bool = True  # outside day_window only with the callee's night consent
    require_marketing_consent: bool = True
    max_attempts_total: int = 6
    max_attempts_per_day: int = 3
    # minimum calling-window time before a retry, by the last attempt's outcome
    retry_delay_s: Mapping[CallState, float] = dataclasses.field(
        default_factory=lambda: DEFAULT_RETRY_DELAY_S)
    default_tz: str = "Asia/Seoul"

    def __post_init__(self) -> None:
        if self.max_ring_s < MIN_RING_S:
            raise ComplianceSettingsError(f"max_ring_s {self.max_ring_s} < {MIN_RING_S}")
        if not 0 < self.connect_window_s <= MAX_CONNECT_WINDOW_S:
            raise ComplianceSettingsError(f"connect_window_s {self.connect_window_s}")
        if not 0 <= self.abandon_cap <= 0.03:
            raise ComplianceSettingsError(f"abandon_cap {self.abandon_cap} above 3 %")
        if self.max_attempts_total < 1 or self.max_attempts_per_day < 1:
            raise ComplianceSettingsError("attempt limits must be at least 1")

    @property
    def window_s(self) -> float:
        if self.abandon_window_s is not None:
            return self.abandon_window_s
        return UK_WINDOW_S if self.uk_mode else US_WINDOW_S


def check_lead(
    lead: LeadRecord, settings: ComplianceSettings, now: dt.datetime
) -> Allowed | Refusal:
    """May this lead be dialled now? The first rule broken is the one recorded."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")

    def refuse(rule: Rule, detail: str) -> Refusal:
        return Refusal(rule=rule, detail=detail, lead_id=lead.lead_id)

    if lead.dnc:
        return refuse(Rule.DO_NOT_CALL, "on a do-not-call list")
    if settings.require_marketing_consent and not lead.consent_marketing:
        return refuse(Rule.NO_MARKETING_CONSENT, "no marketing consent on record")
    zones = lead_zones(lead.phone_e164, lead.tz_override, settings.default_tz)
    if len(lead.attempts) >= settings.max_attempts_total:
        return refuse(Rule.ATTEMPTS_TOTAL, f"{len(lead.attempts)} attempts made")
    today = now.astimezone(zones[0]).date()
    today_count = sum(1 for a in lead.attempts if a.at.astimezone(zones[0]).date() == today)
    if today_count >= settings.max_attempts_per_day:
        return refuse(Rule.ATTEMPTS_PER_DAY, f"{today_count} attempts today")
    if settings.uk_mode and lead.last_abandoned_at is not None:
        since_s = (now - lead.last_abandoned_at).total_seconds()
        if since_s < UK_REDIAL_AFTER_ABANDON_S:
            return refuse(Rule.UK_ABANDON_REDIAL, f"abandoned {since_s / 3600:.1f} h ago")
    night_ok = settings.night_calling and lead.consent_night
    window = ALL_DAY if night_ok else settings.day_window
    if lead.attempts:
        last = max(lead.attempts, key=lambda a: a.at)
        needed_s = settings.retry_delay_s.get(last.outcome, 0.0)
        if needed_s > 0:
            waited_s = window_seconds_between(last.at, now, zones[0], window)
            if waited_s < needed_s:
                return refuse(Rule.RETRY_DELAY,
                              f"{waited_s:.0f} of {needed_s:.0f} s of calling time since "
                              f"the last {last.outcome.value}")
    if not in_window(now, zones, settings.day_window):
        where = ", ".join(z.key for z in zones)
        if not settings.night_calling:
            return refuse(Rule.CALLING_WINDOW, f"outside the calling window in {where}")
        if not lead.consent_night:
            return refuse(Rule.NIGHT_CONSENT, f"night-time in {where} without night consent")
    return Allowed(lead_id=lead.lead_id)


def cap_dials(
    requested: int, *, free_lines: int, abandon_rate: float, cap: float, margin: float = 0.1
) -> tuple[int, Refusal | None]:
    """The abandon cap: when the measured rate reaches the cap (less a safety margin),
    allow no overdial, only one line per free agent, so no new call can be abandoned."""
    if requested <= free_lines or abandon_rate < cap * (1.0 - margin):
        return max(0, requested), None
    allowed = max(0, free_lines)
    return allowed, Refusal(rule=Rule.ABANDON_CAP,
                            detail=f"rate {abandon_rate:.4f} at cap {cap:.4f}: "
                                   f"{requested - allowed} dials held back")


def select_dials(
    *,
    requested: int,
    leads: Iterable[LeadRecord],
    settings: ComplianceSettings,
    now: dt.datetime,
    free_lines: int,
    abandon_rate: float,
) -> tuple[list[LeadRecord], list[Refusal]]:
    """Pick up to `requested` leads that pass every rule, recording each refusal."""
    count, capped = cap_dials(requested, free_lines=free_lines, abandon_rate=abandon_rate,
                              cap=settings.abandon_cap)
    refusals: list[Refusal] = [capped] if capped else []
    chosen: list[LeadRecord] = []
    for lead in leads:
        if len(chosen) >= count:
            break
        verdict = check_lead(lead, settings, now)
        if isinstance(verdict, Refusal):
            refusals.append(verdict)
        else:
            chosen.append(lead)
    return chosen, refusals
