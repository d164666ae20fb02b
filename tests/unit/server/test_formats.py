"""Times, phones and amounts as staff read them."""

from __future__ import annotations

from datetime import UTC, datetime

from server import formats
from server.i18n import set_language

SEOUL = formats.zone("Asia/Seoul")


def test_time_in_the_site_zone_with_its_label() -> None:
    at = datetime(2026, 11, 23, 5, 5, 9, tzinfo=UTC)
    assert formats.when(at, SEOUL) == "2026-11-23 14:05 KST"
    assert formats.when(at, SEOUL, seconds=True) == "2026-11-23 14:05:09 KST"
    assert formats.when(at, formats.zone("Europe/London")) == "2026-11-23 05:05 GMT"
    assert formats.day(datetime(2026, 11, 23, 16, 0, tzinfo=UTC), SEOUL) == "2026-11-24"
    assert formats.when(None, SEOUL) == ""


def test_phones_in_national_format() -> None:
    assert formats.phone("+821039260306") == "010-3926-0306"
    assert formats.phone("+82212345678") == "02-1234-5678"
    assert formats.phone("+8215881234") == "1588-1234"
    assert formats.phone("+14155550100") == "+14155550100"
    assert formats.phone("not a phone") == "not a phone"
    assert formats.phone(None) == ""


def test_amounts_in_won_with_grouping() -> None:
    set_language("ko")
    assert formats.won(1234567) == "1,234,567원"
    set_language("en")
    assert formats.won(12900) == "₩12,900"
    set_language("ko")
    assert formats.percent(0.0312) == "3.1%"
