"""How values read on screen: times in the site's zone and labelled, phones in national
format, amounts in won with grouping. The API keeps ISO times and E.164 phones.

The same rules are in `server/static/i18n.js` (`fmt.*`) for what the page scripts draw;
`tests/e2e/test_formats.py` holds the two to the same output.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

import phonenumbers
from babel.numbers import format_decimal

from server.i18n import BABEL_LOCALE, current_language, gettext

DEFAULT_SITE_TZ = "Asia/Seoul"


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def tz_label(tz: tzinfo, at: datetime | None = None) -> str:
    """The zone's short name at `at` (KST for Asia/Seoul), else its UTC offset."""
    ref = (at or datetime.now(tz)).astimezone(tz)
    name = ref.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = ref.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


def when(at: datetime | None, tz: tzinfo, *, seconds: bool = False, label: bool = True) -> str:
    """'2026-11-23 14:05 KST': the site's wall clock, to the minute, with the zone."""
    if at is None:
        return ""
    local = at.astimezone(tz)
    text = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{text} {tz_label(tz, local)}" if label else text


def day(at: datetime | date | None, tz: tzinfo) -> str:
    """The calendar day in the site's zone: '2026-11-23'."""
    if at is None:
        return ""
    if isinstance(at, datetime):
        return at.astimezone(tz).strftime("%Y-%m-%d")
    return at.isoformat()


def last_day(deadline: datetime | None, tz: tzinfo) -> str:
    """A deadline given as the first instant after a window, as the window's last day."""
    if deadline is None:
        return ""
    return (deadline.astimezone(tz) - timedelta(microseconds=1)).strftime("%Y-%m-%d")


def phone(e164: str | None) -> str:
    """'+821039260306' → '010-3926-0306'; a foreign number stays in E.164 (the page
    scripts, which have no phonenumbers, show it the same way)."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "KR")
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 82:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def number(n: int | float | str | None) -> str:
    if n is None or n == "":
        return ""
    return format_decimal(n, locale=BABEL_LOCALE[current_language()])


def won(amount: int | float | None) -> str:
    """12900 → '12,900원' (English: '₩12,900')."""
    if amount is None:
        return ""
    return gettext("₩%(amount)s") % {"amount": number(amount)}


def percent(fraction: float | None, digits: int = 1) -> str:
    if fraction is None:
        return ""
    return f"{fraction * 100:.{digits}f}%"
