"""The broadcast schedule, pure: CSV rows checked line by line, the order curve a broadcast
draws, and the agents each 15-minute interval needs.

A CSV has a header and one broadcast a row:

    start,end,title,products,expected_calls,queue
    2026-12-04 09:00,2026-12-04 10:00,겨울 패딩 특가,PAD-01;PAD-02,1200,order-line

Times without an offset are the centre's (Asia/Seoul). `products` are product codes split
by `;`; `queue` names the queue the broadcast's order line feeds (empty: the default
order queue). Rows with a mistake are reported by line (the header is line 1) and left
out; the good rows go in.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import io
import math
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from dialer.inbound.erlang import ErlangA, agents_needed

SITE_TZ = ZoneInfo("Asia/Seoul")
INTERVAL_S = 900  # staffing intervals of 15 minutes
COLUMNS = ("start", "end", "title", "products", "expected_calls", "queue")
REQUIRED = ("start", "end", "products", "expected_calls")
MAX_BROADCAST_S = 6 * 3600
MAX_EXPECTED_CALLS = 1_000_000
MAX_PRODUCTS = 20
# The order curve: calls climb for RAMP_S after airtime, then ease off with DECAY_S; after
# the broadcast ends they fall away with TAIL_S (callers who waited for the last pitch).
RAMP_S = 90.0
TAIL_S = 300.0
TAIL_SPAN_S = 1200.0  # how long after the end the tail is counted


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Broadcast:
    start: dt.datetime
    end: dt.datetime
    title: str
    products: tuple[str, ...]
    expected_calls: int
    queue: str | None = None  # None: the default order queue

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RowError:
    """A bad row of a schedule import. `code` (with `value`: the cell, a limit, another
    line) is what the page says in the reader's language; `message` is the English."""

    line: int
    field: str | None
    message: str
    code: str = "invalid"
    value: str | None = None


def _when(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip().replace("/", "-"))
    return value if value.tzinfo else value.replace(tzinfo=SITE_TZ)


def check_row(raw: dict[str, str], line: int) -> Broadcast | RowError:
    """One row to a Broadcast, or the first thing wrong with it."""
    cells = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
    for name in REQUIRED:
        if not cells.get(name):
            return RowError(line=line, field=name, message=f"{name} is empty", code="empty")
    try:
        start = _when(cells["start"])
    except ValueError:
        return RowError(line=line, field="start",
                        message=f"not a date and time: {cells['start']!r}",
                        code="not_a_time", value=cells["start"])
    try:
        end = _when(cells["end"])
    except ValueError:
        return RowError(line=line, field="end", message=f"not a date and time: {cells['end']!r}",
                        code="not_a_time", value=cells["end"])
    if end <= start:
        return RowError(line=line, field="end", message="end must be after start",
                        code="end_before_start")
    if (end - start).total_seconds() > MAX_BROADCAST_S:
        return RowError(line=line, field="end", message="a broadcast lasts at most 6 hours",
                        code="too_long", value=str(MAX_BROADCAST_S // 3600))
    try:
        expected = int(cells["expected_calls"].replace(",", ""))
    except ValueError:
        return RowError(line=line, field="expected_calls",
                        message=f"not a whole number: {cells['expected_calls']!r}",
                        code="not_a_number", value=cells["expected_calls"])
    if not 0 <= expected <= MAX_EXPECTED_CALLS:
        return RowError(line=line, field="expected_calls",
                        message=f"must be between 0 and {MAX_EXPECTED_CALLS}",
                        code="out_of_range", value=str(MAX_EXPECTED_CALLS))
    products = tuple(p.strip() for p in cells["products"].split(";") if p.strip())
    if not products or len(products) > MAX_PRODUCTS:
        return RowError(line=line, field="products",
                        message=f"1 to {MAX_PRODUCTS} product codes split by ';'",
                        code="bad_products", value=str(MAX_PRODUCTS))
    return Broadcast(start=start, end=end, title=cells.get("title", "")[:200],
                     products=products, expected_calls=expected,
                     queue=cells.get("queue") or None)


def parse_csv(text: str) -> tuple[list[tuple[int, Broadcast]], list[RowError]]:
    """Every good row with its line, and the bad ones by line; overlapping rows of the same
    queue are bad (a queue's order line carries one broadcast at a time)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [RowError(line=1, field=None, message="missing columns: " + ", ".join(missing),
                             code="missing_columns", value=", ".join(missing))]
    good: list[tuple[int, Broadcast]] = []
    errors: list[RowError] = []
    for raw in reader:
        line = reader.line_num  # the row's last line (a quoted cell may span lines)
        checked = check_row(raw, line)
        if isinstance(checked, RowError):
            errors.append(checked)
            continue
        clash = next((n for n, b in good if b.queue == checked.queue
                      and b.start < checked.end and checked.start < b.end), None)
        if clash is not None:
            errors.append(RowError(line=line, field="start",
                                   message=f"overlaps the broadcast on line {clash}",
                                   code="overlaps", value=str(clash)))
            continue
        good.append((line, checked))
    return good, errors


# -- the order curve ---------------------------------------------------------------------


def _shape(t_s: float, duration_s: float) -> float:
    """Relative call rate t_s seconds after airtime (not normalised)."""
    if t_s < 0:
        return 0.0
    decay_s = max(duration_s / 3.0, 60.0)
    if t_s < duration_s:
        ramp = min(1.0, t_s / RAMP_S)
        return ramp * (0.35 + 0.65 * math.exp(-t_s / decay_s))
    end_level = 0.35 + 0.65 * math.exp(-duration_s / decay_s)
    return end_level * math.exp(-(t_s - duration_s) / TAIL_S)


@functools.lru_cache(maxsize=256)
def _shape_total(duration_s: float, step_s: float = 5.0) -> float:
    steps = int((duration_s + TAIL_SPAN_S) / step_s)
    return sum(_shape((i + 0.5) * step_s, duration_s) for i in range(steps)) * step_s


def arrival_rate(broadcast: Broadcast, at: dt.datetime) -> float:
    """Calls per second the broadcast's order line is expected to get at `at`."""
    t_s = (at - broadcast.start).total_seconds()
    if t_s < 0 or t_s > broadcast.duration_s + TAIL_SPAN_S or broadcast.expected_calls == 0:
        return 0.0
    return broadcast.expected_calls * _shape(t_s, broadcast.duration_s) / _shape_total(
        broadcast.duration_s)


def rate_curve(
    broadcasts: Iterable[Broadcast], *, start: dt.datetime, span_s: float, step_s: float,
    base_rate: float = 0.0,
) -> list[float]:
    """Expected calls per second every `step_s` from `start` (mid-step), all broadcasts
    summed on top of the line's ordinary traffic `base_rate`."""
    found = list(broadcasts)
    totals = {id(b): _shape_total(b.duration_s) for b in found}
    out = []
    for i in range(math.ceil(span_s / step_s)):
        at = start + dt.timedelta(seconds=(i + 0.5) * step_s)
        rate = base_rate
        for b in found:
            t_s = (at - b.start).total_seconds()
            if 0 <= t_s <= b.duration_s + TAIL_SPAN_S and b.expected_calls:
                rate += b.expected_calls * _shape(t_s, b.duration_s) / totals[id(b)]
        out.append(rate)
    return out


# -- staffing ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class IntervalNeed:
    start: dt.datetime
    expected_calls: float
    agents_needed: int
    figures: ErlangA


def staffing(
    broadcasts: Sequence[Broadcast],
    *,
    day_start: dt.datetime,
    intervals: int,
    aht_s: float,
    patience_s: float,
    base_rate: float = 0.0,
    target_s: float = 20.0,
    service_level: float = 0.80,
) -> list[IntervalNeed]:
    """For each 15-minute interval from `day_start`: the calls expected and the agents
    that answer `service_level` of them within `target_s` (Erlang A with patience)."""
    per_minute = rate_curve(broadcasts, start=day_start, span_s=intervals * INTERVAL_S,
                            step_s=60.0, base_rate=base_rate)
    out = []
    for i in range(intervals):
        minutes = per_minute[i * 15:(i + 1) * 15]
        calls = sum(minutes) * 60.0
        figures = agents_needed(arrival_rate=calls / INTERVAL_S, aht_s=aht_s,
                                patience_s=patience_s, target_s=target_s,
                                service_level=service_level)
        out.append(IntervalNeed(start=day_start + dt.timedelta(seconds=i * INTERVAL_S),
                                expected_calls=calls, agents_needed=figures.agents,
                                figures=figures))
    return out
