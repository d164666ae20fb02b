"""The compliance guard: whatever a strategy asks, forbidden leads are never dialled."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.core.calls import CallState
from dialer.core.compliance import (
    Allowed,
    AttemptRecord,
    ComplianceSettings,
    LeadRecord,
    Refusal,
    Rule,
    check_lead,
    select_dials,
)
from dialer.core.timezones import CallingWindow, in_window, lead_zones, window_seconds_between
from dialer.errors import ComplianceSettingsError

UTC = dt.UTC
NEW_YORK = "+12125550123"
SEOUL = "+821012345678"
PHONES = [NEW_YORK, SEOUL, "+442079460000", "+13105550123"]
SETTINGS = ComplianceSettings(retry_delay_s={})


def lead(**kw: object) -> LeadRecord:
    base: dict[str, object] = {"lead_id": 1, "phone_e164": SEOUL, "consent_marketing": True}
    base.update(kw)
    return LeadRecord(**base)  # type: ignore[arg-type]


# hypothesis takes naive bounds and attaches the zone itself
JAN_1 = dt.datetime(2026, 1, 1)  # noqa: DTZ001
JAN_10 = dt.datetime(2026, 1, 10)  # noqa: DTZ001
JAN_12 = dt.datetime(2026, 1, 12)  # noqa: DTZ001

leads_st = st.builds(
    LeadRecord,
    lead_id=st.integers(1, 10_000),
    phone_e164=st.sampled_from(PHONES),
    tz_override=st.sampled_from([None, None, "Asia/Seoul", "America/Chicago"]),
    dnc=st.booleans(),
    consent_marketing=st.booleans(),
    consent_night=st.booleans(),
    attempts=st.lists(
        st.builds(AttemptRecord,
                  at=st.datetimes(min_value=JAN_1, max_value=JAN_10,
                                  timezones=st.just(UTC)),
                  outcome=st.sampled_from([CallState.BUSY, CallState.NO_ANSWER])),
        max_size=8).map(tuple),
)
now_st = st.datetimes(min_value=JAN_10, max_value=JAN_12, timezones=st.just(UTC))


@settings(max_examples=150, deadline=None)
@given(requested=st.integers(0, 500), leads=st.lists(leads_st, max_size=30), now=now_st,
       rate=st.floats(0.0, 0.2))
def test_forbidden_leads_are_never_dialled(
    requested: int, leads: list[LeadRecord], now: dt.datetime, rate: float
) -> None:
    rules = ComplianceSettings(max_attempts_total=5, max_attempts_per_day=2)
    chosen, refusals = select_dials(requested=requested, leads=leads, settings=rules, now=now,
                                    free_lines=3, abandon_rate=rate)
    assert len(chosen) <= requested
    if rate >= 0.03 * 0.9:
        assert len(chosen) <= 3  # at the cap: no overdial
    for picked in chosen:
        assert not picked.dnc
        assert picked.consent_marketing
        assert len(picked.attempts) < 5
        zones = lead_zones(picked.phone_e164, picked.tz_override, rules.default_tz)
        assert in_window(now, zones, rules.day_window) or picked.consent_night
        local_today = now.astimezone(zones[0]).date()
        assert sum(a.at.astimezone(zones[0]).date() == local_today
                   for a in picked.attempts) < 2
    assert all(isinstance(r, Refusal) for r in refusals)


def test_other_time_zone_is_held_back_outside_its_own_window() -> None:
    # 2026-03-02 13:00 UTC = 22:00 in Seoul (closed) and 08:00 in New York (open)
    now = dt.datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    kr = check_lead(lead(phone_e164=SEOUL), SETTINGS, now)
    us = check_lead(lead(phone_e164=NEW_YORK), SETTINGS, now)
    assert isinstance(kr, Refusal)
    assert kr.rule is Rule.NIGHT_CONSENT
    assert isinstance(us, Allowed)
    # 02:00 UTC = 11:00 Seoul (open), 21:00 New York (closed, the window is [08:00, 21:00))
    later = dt.datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    assert isinstance(check_lead(lead(phone_e164=SEOUL), SETTINGS, later), Allowed)
    refused = check_lead(lead(phone_e164=NEW_YORK), SETTINGS, later)
    assert isinstance(refused, Refusal)
    assert refused.rule is Rule.NIGHT_CONSENT


def test_address_zone_overrides_the_number() -> None:
    now = dt.datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 22:00 Seoul, 07:00 Chicago
    moved = lead(phone_e164=SEOUL, tz_override="America/Los_Angeles")  # 05:00 there
    verdict = check_lead(moved, SETTINGS, now)
    assert isinstance(verdict, Refusal)
    assert "America/Los_Angeles" in verdict.detail


def test_night_consent_allows_a_night_call_unless_the_campaign_forbids_it() -> None:
    night = dt.datetime(2026, 3, 2, 13, 30, tzinfo=UTC)  # 22:30 Seoul
    assert isinstance(check_lead(lead(consent_night=True), SETTINGS, night), Allowed)
    strict = ComplianceSettings(night_calling=False, retry_delay_s={})
    verdict = check_lead(lead(consent_night=True), strict, night)
    assert isinstance(verdict, Refusal)
    assert verdict.rule is Rule.CALLING_WINDOW


@pytest.mark.parametrize(
    ("record", "rule"),
    [
        (lead(dnc=True), Rule.DO_NOT_CALL),
        (lead(consent_marketing=False), Rule.NO_MARKETING_CONSENT),
        (lead(attempts=tuple(AttemptRecord(at=dt.datetime(2026, 1, d, 3, tzinfo=UTC),
                                           outcome=CallState.BUSY) for d in range(1, 7))),
         Rule.ATTEMPTS_TOTAL),
        (lead(attempts=tuple(AttemptRecord(at=dt.datetime(2026, 3, 2, h, tzinfo=UTC),
                                           outcome=CallState.BUSY) for h in (0, 1, 2))),
         Rule.ATTEMPTS_PER_DAY),
    ],
)
def test_each_rule_is_recorded(record: LeadRecord, rule: Rule) -> None:
    now = dt.datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
    verdict = check_lead(record, SETTINGS, now)
    assert isinstance(verdict, Refusal)
    assert verdict.rule is rule
    assert verdict.lead_id == record.lead_id


def test_retry_delay_counts_only_calling_window_time() -> None:
    rules = ComplianceSettings()  # no answer: 2 h of calling time before a retry
    # last attempt 20:30 Seoul; the window closes at 21:00 and opens at 08:00
    last = dt.datetime(2026, 3, 2, 11, 30, tzinfo=UTC)
    record = lead(attempts=(AttemptRecord(at=last, outcome=CallState.NO_ANSWER),))
    next_morning = dt.datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # 08:30 Seoul: 1 h counted
    verdict = check_lead(record, rules, next_morning)
    assert isinstance(verdict, Refusal)
    assert verdict.rule is Rule.RETRY_DELAY
    assert isinstance(check_lead(record, rules, next_morning + dt.timedelta(hours=1)), Allowed)
    seoul = ZoneInfo("Asia/Seoul")
    assert window_seconds_between(last, next_morning, seoul, CallingWindow()) == 3600.0


def test_uk_mode_holds_a_number_for_72_hours_after_an_abandon() -> None:
    rules = ComplianceSettings(uk_mode=True, retry_delay_s={}, default_tz="Europe/London")
    dropped = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    record = lead(phone_e164="+442079460000", last_abandoned_at=dropped)
    verdict = check_lead(record, rules, dropped + dt.timedelta(hours=71))
    assert isinstance(verdict, Refusal)
    assert verdict.rule is Rule.UK_ABANDON_REDIAL
    assert isinstance(check_lead(record, rules, dropped + dt.timedelta(hours=73)), Allowed)
    assert rules.window_s == 86_400.0
    assert ComplianceSettings().window_s == 30 * 86_400.0


def test_settings_refuse_unlawful_values() -> None:
    with pytest.raises(ComplianceSettingsError):
        ComplianceSettings(max_ring_s=10.0)
    with pytest.raises(ComplianceSettingsError):
        ComplianceSettings(connect_window_s=5.0)
    with pytest.raises(ComplianceSettingsError):
        ComplianceSettings(abandon_cap=0.05)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check_lead(lead(), SETTINGS, dt.datetime(2026, 3, 2, 3, 0))  # noqa: DTZ001
