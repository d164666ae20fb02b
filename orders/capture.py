"""Order capture: validate, reserve every line's stock, write the order — all or nothing.

`place_orders` takes a batch (one order is a batch of one) inside the caller's
transaction, in four statements: SKUs; keys claimed, ids and a stock snapshot
(`prepare_batch`, no lock); the guarded reservation (`reserve_if_available`: lock
the stock rows in id order, and reserve only if every row still has the units
the snapshot promised); the rows, events, outbox and answered keys
(`write_orders`). The hot stock rows are locked only for the last two statements
and the commit. If stock moved since the snapshot, the reservation changes
nothing and hands back the rows as they are now (locked), and the batch is
allocated again on them. Locks are always taken in the same order — customers'
advisory locks (per-customer limits), then stock rows by primary key — so
concurrent batches, with lines in any order, cannot deadlock. Each order of a
batch is accepted or rejected on its own; an accepted order's lines are all
reserved.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg

from config.sql import load_queries
from logistics.stock import StockRow, reserve_if_available
from orders.allocation import SkuInfo, _allocate, _Plan, allocate_all, reservations
from orders.errors import (
    InvalidOrder,
    KeyReused,
    LimitExceeded,
    OrdersError,
    RequestInProgress,
    UnknownCustomer,
    UnknownSku,
)
from orders.idempotency import claim_token, settle_unclaimed

__all__ = [
    "SkuInfo",
    "_Plan",
    "_allocate",
    "effective_price",
    "paid_payload",
    "place_order",
    "place_orders",
    "skus_stocked",
]
from orders.models import (
    PAID_AT_CAPTURE,
    IdempotencyRef,
    Order,
    OrderLine,
    OrderRequest,
    OrderStatus,
    PaymentMethod,
    order_json,
)

Q = load_queries("orders", "queries.sql")
CUSTOMER_LOCK_NS = zlib.crc32(b"orders.customer") & 0x7FFFFFFF


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


def _claims(
    requests: Sequence[OrderRequest], outcomes: list[Order | OrdersError | None]
) -> list[tuple[int, IdempotencyRef]]:
    """The batch's keys to claim; a key repeated within the batch waits for its first use."""
    first: dict[tuple[int, str], str] = {}
    keyed: list[tuple[int, IdempotencyRef]] = []
    for index, request in enumerate(requests):
        ref = request.idempotency
        if ref is None:
            continue
        digest = first.get((ref.user_id, ref.key))
        if digest is None:
            first[(ref.user_id, ref.key)] = ref.request_hash
            keyed.append((index, ref))
        else:
            outcomes[index] = RequestInProgress() if digest == ref.request_hash else KeyReused()
    return keyed


def _snapshot(prepared: asyncpg.Record) -> list[StockRow]:
    return [
        StockRow(id=i, sku_id=k, warehouse_id=w, on_hand=h, reserved=r, low_stock_threshold=t)
        for i, k, w, h, r, t in zip(
            prepared["stock_ids"],
            prepared["stock_sku_ids"],
            prepared["stock_warehouse_ids"],
            prepared["stock_on_hand"],
            prepared["stock_reserved"],
            prepared["stock_thresholds"],
            strict=True,
        )
    ]


async def place_orders(
    conn: asyncpg.Connection,
    *,
    requests: Sequence[OrderRequest],
    now: datetime | None = None,
) -> list[Order | OrdersError]:
    """Place a batch of orders in the caller's transaction; one outcome per request.

    A request whose Idempotency-Key was answered before gets `AlreadyAnswered` (with the
    stored response), one whose key is in use `RequestInProgress` or `KeyReused`."""
    now = now or datetime.now(UTC)
    outcomes: list[Order | OrdersError | None] = [None] * len(requests)
    keyed = _claims(requests, outcomes)
    skus = await load_skus(conn, sku_ids=[ln.sku_id for r in requests for ln in r.lines], now=now)
    stocked = sorted(
        {s for r in requests for ln in r.lines if ln.sku_id in skus
         for s, _ in skus[ln.sku_id].stocked()}
    )  # fmt: skip
    prepared = await conn.fetchrow(
        Q["prepare_batch"],
        [r.customer_id for r in requests],
        len(requests),
        sum(len(r.lines) for r in requests),
        [ref.user_id for _, ref in keyed],
        [ref.key for _, ref in keyed],
        [ref.request_hash for _, ref in keyed],
        stocked,
    )
    assert prepared is not None
    claimed = set(prepared["claimed"])
    unclaimed = [(i, ref) for i, ref in keyed if claim_token(ref.user_id, ref.key) not in claimed]
    if unclaimed:
        for index, refusal in (await settle_unclaimed(conn, refs=unclaimed)).items():
            outcomes[index] = refusal
    customers = set(prepared["customer_ids"])
    order_ids: list[int] = prepared["order_ids"]
    line_ids: list[int] = prepared["line_ids"]
    plans: list[_Plan] = []
    first_line = 0
    for index, request in enumerate(requests):
        lines_here = len(request.lines)
        first_line += lines_here
        if outcomes[index] is not None:
            continue
        try:
            plan = _validate(request, skus, customers)
        except OrdersError as exc:
            outcomes[index] = exc
            continue
        plan.index = index
        plan.order_id = order_ids[index]
        plan.line_ids = tuple(line_ids[first_line - lines_here : first_line])
        plans.append(plan)
    for index, error in (await _check_limits(conn, plans, skus)).items():
        outcomes[index] = error
    plans = [p for p in plans if outcomes[p.index] is None]
    rows = _snapshot(prepared)
    accepted, refused = allocate_all(plans, rows, skus)
    if movements := reservations(accepted):
        ok, rows = await reserve_if_available(
            conn, lock_ids=[r.id for r in rows], movements=movements
        )
        if not ok:  # stock moved since the snapshot: plan again on the locked rows
            accepted, refused = allocate_all(plans, rows, skus)
            if movements := reservations(accepted):
                ok, _ = await reserve_if_available(
                    conn, lock_ids=[r.id for r in rows], movements=movements
                )
                assert ok, "the rows are locked: the second plan must fit"
    for index, error in refused.items():
        outcomes[index] = error
    released = [
        ref for index, ref in keyed
        if isinstance(outcomes[index], OrdersError) and claim_token(ref.user_id, ref.key) in claimed
    ]  # fmt: skip
    written = await _write(conn, accepted, skus, now, released)
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
    released: list[IdempotencyRef],
) -> list[Order]:
    """Write accepted orders — rows, events, outbox, stored responses — and release the keys
    of refused requests, in one statement."""
    if not plans and not released:
        return []
    orders: list[Order] = []
    o_cols: list[list[Any]] = [[] for _ in range(12)]
    l_cols: list[list[Any]] = [[] for _ in range(5)]
    a_cols: list[list[Any]] = [[] for _ in range(5)]
    e_cols: list[list[Any]] = [[] for _ in range(5)]
    x_cols: list[list[Any]] = [[] for _ in range(3)]
    k_cols: list[list[Any]] = [[] for _ in range(5)]
    for plan in plans:
        req = plan.request
        order_id = plan.order_id
        lines = tuple(
            OrderLine(
                id=line_id,
                sku_id=ln.sku_id,
                sku_code=skus[ln.sku_id].code,
                qty=ln.qty,
                cancelled_qty=0,
                unit_price_krw=price,
            )
            for ln, price, line_id in zip(req.lines, plan.prices, plan.line_ids, strict=True)
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
    await conn.execute(
        Q["write_orders"], *o_cols, *l_cols, *a_cols, *e_cols, *x_cols, *k_cols,
        [r.user_id for r in released], [r.key for r in released],
    )  # fmt: skip
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
