"""Order capture: validate, reserve every line's stock, write the order — all or nothing.

`place_orders` takes a batch (one order is a batch of one) inside the caller's
transaction. Locks are always taken in the same order — customers' advisory
locks (per-customer limits), then stock rows by primary key — so concurrent
batches, with lines in any order, cannot deadlock. Each order of a batch is
accepted or rejected on its own; an accepted order's lines are all reserved.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from config.sql import load_queries
from logistics.stock import Movement, MovementKind, StockRow, apply_movements, lock_rows
from orders.errors import (
    InvalidOrder,
    LimitExceeded,
    OrdersError,
    OutOfStock,
    UnknownCustomer,
    UnknownSku,
)
from orders.models import (
    PAID_AT_CAPTURE,
    Order,
    OrderLine,
    OrderRequest,
    OrderStatus,
    PaymentMethod,
    order_json,
)

Q = load_queries("orders", "queries.sql")
CUSTOMER_LOCK_NS = zlib.crc32(b"orders.customer") & 0x7FFFFFFF


@dataclass(frozen=True, kw_only=True)
class SkuInfo:
    id: int
    code: str
    product_id: int
    unit_price_krw: int
    per_customer_limit: int | None
    active: bool
    components: tuple[tuple[int, int], ...]  # (stocked sku id, units per set); empty = itself

    def stocked(self) -> tuple[tuple[int, int], ...]:
        return self.components or ((self.id, 1),)


def effective_price(row: asyncpg.Record | dict[str, Any], now: datetime) -> int:
    """Broadcast price inside its window, else the SKU's own price, else the product's."""
    broadcast = row["broadcast_price_krw"]
    start, until = row["broadcast_from"], row["broadcast_until"]
    if broadcast is not None and (start is None or start <= now) and (until is None or now < until):
        return int(broadcast)
    sku_price = row["sku_price_krw"]
    return int(sku_price if sku_price is not None else row["price_krw"])


async def load_skus(
    conn: asyncpg.Connection, *, sku_ids: Sequence[int], now: datetime
) -> dict[int, SkuInfo]:
    rows = await conn.fetch(Q["skus_for_order"], sorted(set(sku_ids)))
    return {
        r["id"]: SkuInfo(
            id=r["id"],
            code=r["code"],
            product_id=r["product_id"],
            unit_price_krw=effective_price(r, now),
            per_customer_limit=r["per_customer_limit"],
            active=r["active"],
            components=tuple(zip(r["component_ids"], r["component_qtys"], strict=True)),
        )
        for r in rows
    }


@dataclass(frozen=True, kw_only=True)
class _Ids:
    orders: Iterator[int]
    lines: Iterator[int]


@dataclass(kw_only=True)
class _Plan:
    index: int
    request: OrderRequest
    prices: list[int]
    # stocked sku id -> (units, index of the first line needing it)
    demand: dict[int, tuple[int, int]]
    allocations: list[tuple[int, int, int, int]] | None = None  # (line idx, stock, sku, qty)


def _validate(request: OrderRequest, skus: dict[int, SkuInfo], customers: set[int]) -> _Plan:
    if request.customer_id not in customers:
        raise UnknownCustomer(f"no customer {request.customer_id}")
    if not request.lines:
        raise InvalidOrder("an order needs at least one line", field="lines")
    prices: list[int] = []
    demand: dict[int, tuple[int, int]] = {}
    seen: set[int] = set()
    for i, line in enumerate(request.lines):
        field = f"lines.{i}.sku_id"
        info = skus.get(line.sku_id)
        if info is None or not info.active:
            raise UnknownSku(f"no SKU {line.sku_id} on sale", field=field)
        if line.sku_id in seen:
            raise InvalidOrder(f"SKU {info.code} appears twice: use one line", field=field)
        seen.add(line.sku_id)
        if line.qty <= 0:
            raise InvalidOrder("qty must be positive", field=f"lines.{i}.qty")
        prices.append(info.unit_price_krw)
        for stocked, per in info.stocked():
            units, first = demand.get(stocked, (0, i))
            demand[stocked] = (units + per * line.qty, first)
    return _Plan(index=0, request=request, prices=prices, demand=demand)


async def _check_limits(
    conn: asyncpg.Connection, plans: list[_Plan], skus: dict[int, SkuInfo]
) -> dict[int, OrdersError]:
    """Per-customer purchase limits, counting live orders and earlier orders of the batch."""
    limited = [
        p for p in plans if any(skus[ln.sku_id].per_customer_limit for ln in p.request.lines)
    ]
    if not limited:
        return {}
    customers = sorted({p.request.customer_id for p in limited})
    products = sorted({skus[ln.sku_id].product_id for p in limited for ln in p.request.lines})
    await conn.fetchval(Q["lock_customers"], CUSTOMER_LOCK_NS, customers)
    held: dict[tuple[int, int], int] = defaultdict(int)
    for r in await conn.fetch(Q["units_bought"], customers, products):
        held[(r["customer_id"], r["product_id"])] = r["units"]
    errors: dict[int, OrdersError] = {}
    for plan in limited:
        wanted: dict[int, int] = defaultdict(int)
        for ln in plan.request.lines:
            wanted[skus[ln.sku_id].product_id] += ln.qty
        for i, ln in enumerate(plan.request.lines):
            info = skus[ln.sku_id]
            limit = info.per_customer_limit
            key = (plan.request.customer_id, info.product_id)
            if limit is not None and held[key] + wanted[info.product_id] > limit:
                errors[plan.index] = LimitExceeded(
                    f"SKU {info.code}: at most {limit} per customer, {held[key]} already ordered",
                    field=f"lines.{i}.qty",
                    limit=limit,
                    already=held[key],
                )
                break
        else:
            for product_id, units in wanted.items():
                held[(plan.request.customer_id, product_id)] += units
    return errors


def _allocate(
    plan: _Plan,
    rows_by_sku: dict[int, list[StockRow]],
    free: dict[int, int],
    skus: dict[int, SkuInfo],
) -> OrdersError | None:
    """Pick stock rows for every line, or report the first short line (touching nothing)."""
    taken: dict[int, int] = defaultdict(int)
    picks: list[tuple[int, int, int, int]] = []
    for i, line in enumerate(plan.request.lines):
        for stocked, per in skus[line.sku_id].stocked():
            need = per * line.qty
            rows = rows_by_sku.get(stocked, [])
            left = [(r.id, free[r.id] - taken[r.id]) for r in rows]
            total = sum(n for _, n in left)
            if total < need:
                info = skus[line.sku_id]
                can = _units_left(info, rows_by_sku, free, taken)
                return OutOfStock(
                    f"SKU {info.code}: only {can} left, {line.qty} ordered",
                    field=f"lines.{i}.sku_id",
                    sku_id=info.id,
                    sku=info.code,
                    available=can,
                )
            # Deterministic: the lowest stock id that holds it all, else split in id order.
            whole = next((sid for sid, n in left if n >= need), None)
            chosen = [(whole, need)] if whole is not None else []
            if whole is None:
                rest = need
                for sid, n in left:
                    if rest == 0:
                        break
                    take = min(n, rest)
                    if take > 0:
                        chosen.append((sid, take))
                        rest -= take
            for sid, qty in chosen:
                taken[sid] += qty
                picks.append((i, sid, stocked, qty))
    for sid, qty in taken.items():
        free[sid] -= qty
    plan.allocations = picks
    return None


def _units_left(
    info: SkuInfo,
    rows_by_sku: dict[int, list[StockRow]],
    free: dict[int, int],
    taken: dict[int, int],
) -> int:
    counts = [
        sum(free[r.id] - taken[r.id] for r in rows_by_sku.get(stocked, [])) // per
        for stocked, per in info.stocked()
    ]
    return max(0, min(counts))


async def place_orders(
    conn: asyncpg.Connection, *, requests: Sequence[OrderRequest], now: datetime | None = None
) -> list[Order | OrdersError]:
    """Place a batch of orders in the caller's transaction; one outcome per request."""
    now = now or datetime.now(UTC)
    outcomes: list[Order | OrdersError | None] = [None] * len(requests)
    skus = await load_skus(conn, sku_ids=[ln.sku_id for r in requests for ln in r.lines], now=now)
    prepared = await conn.fetchrow(
        Q["prepare_batch"],
        [r.customer_id for r in requests],
        len(requests),
        sum(len(r.lines) for r in requests),
    )
    assert prepared is not None
    customers = set(prepared["customer_ids"])
    ids = _Ids(orders=iter(prepared["order_ids"]), lines=iter(prepared["line_ids"]))
    plans: list[_Plan] = []
    for index, request in enumerate(requests):
        try:
            plan = _validate(request, skus, customers)
        except OrdersError as exc:
            outcomes[index] = exc
            continue
        plan.index = index
        plans.append(plan)
    for index, error in (await _check_limits(conn, plans, skus)).items():
        outcomes[index] = error
    plans = [p for p in plans if outcomes[p.index] is None]
    if plans:
        stocked_ids = {sku for p in plans for sku in p.demand}
        rows = await lock_rows(conn, sku_ids=stocked_ids)
        rows_by_sku: dict[int, list[StockRow]] = defaultdict(list)
        for row in rows:
            rows_by_sku[row.sku_id].append(row)
        free = {row.id: row.available for row in rows}
        accepted: list[_Plan] = []
        for plan in plans:
            short = _allocate(plan, rows_by_sku, free, skus)
            if short is None:
                accepted.append(plan)
            else:
                outcomes[plan.index] = short
        written = await _write(conn, accepted, skus, now, ids)
        for plan, order in zip(accepted, written, strict=True):
            outcomes[plan.index] = order
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None]


async def place_order(
    conn: asyncpg.Connection, *, request: OrderRequest, now: datetime | None = None
) -> Order:
    """Place one order in the caller's transaction, or raise why not (writing nothing)."""
    (outcome,) = await place_orders(conn, requests=[request], now=now)
    if isinstance(outcome, OrdersError):
        raise outcome
    return outcome


def _push(cols: list[list[Any]], *values: Any) -> None:
    for col, value in zip(cols, values, strict=True):
        col.append(value)


async def _write(
    conn: asyncpg.Connection,
    plans: list[_Plan],
    skus: dict[int, SkuInfo],
    now: datetime,
    ids: _Ids,
) -> list[Order]:
    """Write accepted orders — rows, events, outbox, stored responses — in one statement,
    then move the stock counters: the hot rows change as late as possible before commit."""
    if not plans:
        return []
    orders: list[Order] = []
    o_cols: list[list[Any]] = [[] for _ in range(12)]
    l_cols: list[list[Any]] = [[] for _ in range(5)]
    a_cols: list[list[Any]] = [[] for _ in range(5)]
    e_cols: list[list[Any]] = [[] for _ in range(5)]
    x_cols: list[list[Any]] = [[] for _ in range(3)]
    k_cols: list[list[Any]] = [[] for _ in range(5)]
    movements: list[Movement] = []
    for plan in plans:
        req = plan.request
        order_id = next(ids.orders)
        lines = tuple(
            OrderLine(
                id=next(ids.lines),
                sku_id=ln.sku_id,
                sku_code=skus[ln.sku_id].code,
                qty=ln.qty,
                cancelled_qty=0,
                unit_price_krw=price,
            )
            for ln, price in zip(req.lines, plan.prices, strict=True)
        )
        paid = req.payment_method in PAID_AT_CAPTURE
        order = Order(
            id=order_id,
            customer_id=req.customer_id,
            status=OrderStatus.PAID if paid else OrderStatus.PLACED,
            total_krw=sum(ln.qty * ln.unit_price_krw for ln in lines),
            payment_method=req.payment_method,
            payment=req.payment,
            pay_deadline=req.pay_deadline,
            delivery=req.delivery,
            attempt_id=req.attempt_id,
            agent_id=req.agent_id,
            placed_at=now,
            updated_at=now,
            paid_at=now if paid else None,
            lines=lines,
        )
        orders.append(order)
        _push(
            o_cols, order.id, order.customer_id, order.status.value, order.total_krw,
            order.payment_method.value, order.payment, order.pay_deadline, order.delivery,
            order.attempt_id, order.agent_id, now, order.paid_at,
        )  # fmt: skip
        for line in lines:
            _push(l_cols, line.id, order.id, line.sku_id, line.qty, line.unit_price_krw)
        reserved = []
        for line_index, stock_id, sku_id, qty in plan.allocations or ():
            _push(a_cols, order.id, lines[line_index].id, stock_id, sku_id, qty)
            reserved.append({"stock_id": stock_id, "sku_id": sku_id, "qty": qty})
            movements.append(
                Movement(
                    stock_id=stock_id,
                    kind=MovementKind.RESERVATION,
                    reserved_delta=qty,
                    order_id=order.id,
                    actor=req.actor,
                )
            )
        placed = {"total_krw": order.total_krw, "attempt_id": req.attempt_id, "reserved": reserved}
        _push(e_cols, order.id, "placed", req.actor, placed, now)
        if paid:
            _push(e_cols, order.id, "paid", req.actor, {"method": order.payment_method.value}, now)
        if paid or order.payment_method is PaymentMethod.COD:
            payload = paid_payload(order, skus_stocked(plan))
            _push(x_cols, "order.paid", str(order.id), payload)
        if req.idempotency is not None:
            key = req.idempotency
            _push(k_cols, key.user_id, key.key, 201, order_json(order), order.id)
    await conn.execute(Q["write_orders"], *o_cols, *l_cols, *a_cols, *e_cols, *x_cols, *k_cols)
    await apply_movements(conn, movements=movements)
    return orders


def skus_stocked(plan: _Plan) -> list[dict[str, int]]:
    units: dict[int, int] = defaultdict(int)
    for _, _, sku_id, qty in plan.allocations or ():
        units[sku_id] += qty
    return [{"sku_id": sku, "qty": qty} for sku, qty in sorted(units.items())]


def paid_payload(order: Order, items: list[dict[str, int]]) -> dict[str, Any]:
    """The 'order.paid' outbox payload (the contract with logistics)."""
    return {
        "order_id": order.id,
        "customer_id": order.customer_id,
        "lines": [{"sku_id": ln.sku_id, "qty": ln.open_qty} for ln in order.lines],
        "items": items,  # stocked SKUs: sets expanded into their components
        "delivery": order.delivery,
        "cod": order.payment_method is PaymentMethod.COD,
    }
