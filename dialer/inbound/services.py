"""The inbound side's services: the schedule import, what the ARS offers a caller, and
staffing beside the agents logged in. They take a connection (the caller owns the
transaction) and, where another domain must answer (products with prices and stock), a
callable handed down by the server: the dialer does not import orders."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

from crm import customers
from crm.errors import CustomerNotFound
from dialer.inbound import store
from dialer.inbound.ars import Offer, Product
from dialer.inbound.blending import TalkModel
from dialer.inbound.erlang import ErlangA
from dialer.inbound.schedule import INTERVAL_S, Broadcast, RowError, parse_csv, staffing

# product codes on air -> the ARS's products (options with price and stock), in that order
ProductsFor = Callable[[asyncpg.Connection, Sequence[str]], Awaitable[tuple[Product, ...]]]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ImportReport:
    imported: list[int]  # broadcast ids
    errors: list[RowError]

    def as_json(self) -> dict[str, Any]:
        return {"imported": len(self.imported), "ids": self.imported,
                "errors": [dataclasses.asdict(e) for e in self.errors]}


async def add_broadcasts(
    conn: asyncpg.Connection, *, rows: Sequence[tuple[int, Broadcast]], actor: str
) -> ImportReport:
    """Store broadcasts (each with its line or index for the report): a row whose queue is
    unknown or that overlaps a stored broadcast of its queue is reported, the rest go in."""
    good: list[tuple[Broadcast, int]] = []
    errors: list[RowError] = []
    default = await store.queue_id(conn, "order-line")
    for line, b in rows:
        qid = await store.queue_id(conn, b.queue) if b.queue else default
        if qid is None:
            errors.append(RowError(line=line, field="queue", message=f"no queue {b.queue!r}",
                                   code="no_queue", value=b.queue))
            continue
        clash = await store.overlapping(conn, queue_id=qid, start=b.start, end=b.end)
        if clash:
            errors.append(RowError(line=line, field="start",
                                   message=f"overlaps stored broadcast {clash[0]}",
                                   code="overlaps_stored", value=str(clash[0])))
            continue
        good.append((b, qid))
    ids = await store.insert_broadcasts(conn, rows=good, actor=actor)
    return ImportReport(imported=ids, errors=errors)


async def import_schedule(conn: asyncpg.Connection, *, text: str, actor: str) -> ImportReport:
    """A schedule CSV: good rows stored, bad rows reported by line (see schedule.py)."""
    parsed, errors = parse_csv(text)
    report = await add_broadcasts(conn, rows=parsed, actor=actor)
    return ImportReport(imported=report.imported,
                        errors=sorted(errors + report.errors, key=lambda e: e.line))


async def find_customer(conn: asyncpg.Connection, caller_e164: str | None) -> dict[str, Any] | None:
    """The customer whose number is calling (crm), with every field, or None."""
    if not caller_e164:
        return None
    page = await customers.list_customers(conn, q=caller_e164, limit=1)
    if not page.items or page.items[0].phone_e164 != caller_e164:
        return None
    try:
        return await customers.get_customer(conn, customer_id=page.items[0].id)
    except CustomerNotFound:
        return None


async def ars_offer(
    conn: asyncpg.Connection,
    *,
    caller_e164: str | None,
    queue_id: int,
    now: dt.datetime,
    products_for: ProductsFor,
) -> tuple[Offer, dict[str, Any] | None]:
    """What the ARS can offer this caller now (and the broadcast on air, if any)."""
    customer = await find_customer(conn, caller_e164)
    broadcast = await store.on_air(conn, queue_id=queue_id, now=now)
    products = await products_for(conn, broadcast["products"]) if broadcast else ()
    payments = await store.payments_of(conn, customer["id"]) if customer else ()
    offer = Offer(
        customer_id=customer["id"] if customer else None,
        customer_name=(customer or {}).get("name") or "",
        can_deliver=bool(customer and customer.get("address") and customer.get("postal_code")),
        products=products,
        payments=payments,
    )
    return offer, broadcast


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class StaffingRow:
    start: dt.datetime
    expected_calls: float
    agents_needed: int
    agents_logged_in: int | None
    figures: ErlangA

    def as_json(self) -> dict[str, Any]:
        f = self.figures
        return {"start": self.start.isoformat(), "expected_calls": round(self.expected_calls, 1),
                "agents_needed": self.agents_needed, "agents_logged_in": self.agents_logged_in,
                "service_level": round(f.service_level, 4), "p_abandon": round(f.p_abandon, 4),
                "asa_s": round(f.asa_s, 1), "occupancy": round(f.occupancy, 3)}


async def staffing_plan(
    conn: asyncpg.Connection,
    *,
    day_start: dt.datetime,
    hours: int,
    aht_s: float,
    patience_s: float,
    logged_in: int | None = None,
) -> list[StaffingRow]:
    """Agents needed per 15-minute interval for the stored schedule, beside those logged
    in now (the current interval only: the desk knows no future logins)."""
    until = day_start + dt.timedelta(hours=hours)
    rows = await store.list_broadcasts(conn, since=day_start - dt.timedelta(hours=1),
                                       until=until)
    broadcasts = [Broadcast(start=r["starts_at"], end=r["ends_at"], title=r["title"],
                            products=tuple(r["products"]), expected_calls=r["expected_calls"],
                            queue=r["queue"]) for r in rows]
    needs = staffing(broadcasts, day_start=day_start, intervals=hours * 3600 // INTERVAL_S,
                     aht_s=aht_s, patience_s=patience_s)
    now = dt.datetime.now(dt.UTC)
    return [StaffingRow(start=n.start, expected_calls=n.expected_calls,
                        agents_needed=n.agents_needed,
                        agents_logged_in=logged_in if n.start <= now < n.start + dt.timedelta(
                            seconds=INTERVAL_S) else None,
                        figures=n.figures) for n in needs]


# -- the floor as measured: callers' patience and outbound talk ------------------------------
# Until the floor has shown enough, the broadcast-peak scenario's figures, on which the
# hold plan was tuned (docs/inbound.md "Blended agents").
DEFAULT_PATIENCE_S = 60.0
DEFAULT_TALK = TalkModel(talk_mean_s=280.0, talk_sd_s=160.0, wrap_mean_s=40.0)
MEASURE_SPAN = dt.timedelta(days=7)
MIN_ABANDONS = 20  # the patience estimate's error is about 1/sqrt(abandons): ±22 % at 20
MIN_WAITING_CALLS = 100
MIN_TALKS = 50
PATIENCE_RANGE_S = (10.0, 600.0)
TALK_MEAN_RANGE_S = (30.0, 1800.0)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class FloorModel:
    """What the hold plan and the staffing page assume of callers and outbound calls, and
    how many calls each figure comes from (0: the default, too few calls yet)."""

    patience_s: float = DEFAULT_PATIENCE_S
    patience_calls: int = 0
    talk: TalkModel = DEFAULT_TALK
    talk_calls: int = 0


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


async def floor_model(conn: asyncpg.Connection, *, now: dt.datetime) -> FloorModel:
    """The last week's calls, where there are enough of them.

    Patience: callers' patience taken as exponential (as the simulator and Erlang A take
    it), whose rate is estimated by abandons over the time callers spent waiting, answered
    callers' waits counted as patience not yet run out (censored): mean patience =
    total wait / abandons (Mandelbaum and Zeltyn's estimator for call centres).
    Talk: the mean and standard deviation of outbound talk (the plan takes it lognormal)."""
    since = now - MEASURE_SPAN
    waited = await store.measured_patience(conn, since=since)
    talked = await store.measured_outbound_talk(conn, since=since)
    model = FloorModel()
    if waited["abandoned"] >= MIN_ABANDONS and waited["calls"] >= MIN_WAITING_CALLS:
        model = dataclasses.replace(
            model, patience_s=_clamp(waited["wait_s"] / waited["abandoned"], PATIENCE_RANGE_S),
            patience_calls=int(waited["calls"]))  # fmt: skip
    if talked["calls"] >= MIN_TALKS:
        mean_s = _clamp(talked["mean_s"], TALK_MEAN_RANGE_S)
        model = dataclasses.replace(
            model, talk=dataclasses.replace(
                DEFAULT_TALK, talk_mean_s=mean_s,
                talk_sd_s=_clamp(talked["sd_s"] or 0.0, (1.0, 2 * mean_s))),
            talk_calls=int(talked["calls"]))  # fmt: skip
    return model
