"""The callee's local time: from the phone number, or the customer's address when known."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as pn_timezone

UNKNOWN_ZONE = "Etc/Unknown"
MAX_WINDOW_DAYS = 400  # beyond this many days any retry delay is long satisfied


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CallingWindow:
    """Local hours when a call may start: [start, end). start == end means all day."""

    start: dt.time = dt.time(8, 0)
    end: dt.time = dt.time(21, 0)

    @property
    def all_day(self) -> bool:
        return self.start == self.end

    def contains(self, local: dt.time) -> bool:
        if self.all_day:
            return True
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # window across midnight


ALL_DAY = CallingWindow(start=dt.time(0, 0), end=dt.time(0, 0))


@functools.lru_cache(maxsize=4096)
def _zones_for_number(phone_e164: str) -> tuple[str, ...]:
    try:
        number = phonenumbers.parse(phone_e164)
    except phonenumbers.NumberParseException:
        return ()
    return tuple(z for z in pn_timezone.time_zones_for_number(number) if z != UNKNOWN_ZONE)


def lead_zones(phone_e164: str, tz_override: str | None, default_tz: str) -> tuple[ZoneInfo, ...]:
    """Every zone the callee may be in. The address zone, when known, is the only one.

    A number spanning several zones is callable only when it is inside the window in all
    of them; an unplaceable number falls back to the campaign's zone."""
    names: tuple[str, ...] = (tz_override,) if tz_override else _zones_for_number(phone_e164)
    zones = []
    for name in names or (default_tz,):
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return tuple(zones) or (ZoneInfo(default_tz),)


def in_window(now: dt.datetime, zones: tuple[ZoneInfo, ...], window: CallingWindow) -> bool:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return all(window.contains(now.astimezone(zone).time()) for zone in zones)


def window_seconds_between(
    start: dt.datetime, end: dt.datetime, zone: ZoneInfo, window: CallingWindow
) -> float:
    """Seconds of calling-window time in [start, end), counted in the callee's zone."""
    if end <= start:
        return 0.0
    if window.all_day:
        return (end - start).total_seconds()
    total = 0.0
    day = start.astimezone(zone).date() - dt.timedelta(days=1)  # a window may cross midnight
    last = end.astimezone(zone).date()
    for _ in range(MAX_WINDOW_DAYS):
        if day > last:
            break
        open_at = dt.datetime.combine(day, window.start, tzinfo=zone)
        close_day = day if window.start < window.end else day + dt.timedelta(days=1)
        close_at = dt.datetime.combine(close_day, window.end, tzinfo=zone)
        lo, hi = max(open_at, start), min(close_at, end)
        if hi > lo:
            total += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    else:
        total = float("inf")
    return total
