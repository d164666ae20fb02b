"""Schedule rows checked line by line, the order curve's total, staffing per interval."""

from __future__ import annotations

import datetime as dt

from dialer.inbound.schedule import (
    SITE_TZ,
    Broadcast,
    arrival_rate,
    parse_csv,
    rate_curve,
    staffing,
)


def test_rows_by_line_with_a_quoted_cell_over_two_lines() -> None:
    text = ("\ufeffStart,End,Title,Products,Expected_Calls\n"
            '2026-12-04 09:00,2026-12-04 10:00,"두 줄\n제목",A;B,100\n'
            "2026-12-04 10:00,,빈 칸,A,1\n"
            "2026-12-04T11:00:00+00:00,2026-12-04T12:00:00+00:00,UTC,A,5\n")
    good, errors = parse_csv(text)
    assert [(line, b.title, b.products) for line, b in good] == [
        (3, "두 줄\n제목", ("A", "B")), (5, "UTC", ("A",))]
    assert good[0][1].start == dt.datetime(2026, 12, 4, 9, tzinfo=SITE_TZ)
    assert [(e.line, e.field) for e in errors] == [(4, "end")]
    _, missing = parse_csv("start,title\n")
    assert missing[0].message == "missing columns: end, products, expected_calls"


def test_order_curve_sums_to_the_expected_calls_and_peaks_early() -> None:
    start = dt.datetime(2026, 12, 4, 9, tzinfo=SITE_TZ)
    b = Broadcast(start=start, end=start + dt.timedelta(hours=1), title="", products=("A",),
                  expected_calls=600)
    per_s = rate_curve([b], start=start - dt.timedelta(minutes=10), span_s=3 * 3600, step_s=10)
    assert abs(sum(per_s) * 10 - 600) < 6
    assert arrival_rate(b, start - dt.timedelta(seconds=1)) == 0.0
    assert arrival_rate(b, start + dt.timedelta(minutes=3)) > arrival_rate(
        b, start + dt.timedelta(minutes=50))
    needs = staffing([b], day_start=start - dt.timedelta(hours=1), intervals=12, aht_s=180,
                     patience_s=60)
    assert needs[0].agents_needed == 0
    assert needs[4].agents_needed == max(n.agents_needed for n in needs)  # 09:00-09:15
    assert all(n.figures.service_level >= 0.8 for n in needs)
