"""Lifecycle on the domain functions: expiry sweep, shipping, partial cancel of sets,
and counters == ledger after a random workload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logistics.errors import LogisticsError
from logistics.stock import adjust, check, receive, restock_return
from orders import lifecycle
from orders.capture import place_order
from orders.errors import InvalidTransition, OrdersError
from orders.jobs import JOBS
from orders.models import OrderStatus, PaymentMethod
from orders.reads import get_order
from tests.integration.orders import seed


async def _reserved(conn: asyncpg.Connection) -> dict[int, tuple[int, int]]:
    rows = await conn.fetch("SELECT sku_id, on_hand, reserved FROM stock")
    return {r["sku_id"]: (r["on_hand"], r["reserved"]) for r in rows}


async def test_expiry_sweep_releases_unpaid_virtual_account_orders(pool: asyncpg.Pool) -> None:
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        (sku,) = await seed.product(conn, "VA", stock=10)
        (cust,) = await seed.customers(conn, 1)
        due = await place_order(
            conn,
            request=seed.order(
                cust,
                [(sku, 3)],
                method=PaymentMethod.VIRTUAL_ACCOUNT,
                pay_deadline=now - timedelta(minutes=1),
            ),
        )
        later = await place_order(
            conn,
            request=seed.order(
                cust,
                [(sku, 2)],
                method=PaymentMethod.VIRTUAL_ACCOUNT,
                pay_deadline=now + timedelta(days=1),
            ),
        )
        assert (await _reserved(conn))[sku] == (10, 5)
    (job,) = [j for j in JOBS if j.name == "orders.expire_unpaid"]
    async with pool.acquire() as conn, conn.transaction():
        await job.body(conn)
    async with pool.acquire() as conn:
        assert (await _reserved(conn))[sku] == (10, 2)
        statuses = dict(await conn.fetch("SELECT id, status FROM orders"))
        assert statuses == {due.id: "expired", later.id: "placed"}
        with pytest.raises(InvalidTransition):
            await lifecycle.pay(conn, order_id=due.id, actor="test")
        paid = await lifecycle.pay(conn, order_id=later.id, actor="test")
        assert paid.status is OrderStatus.PAID
        async with conn.transaction():
            assert await lifecycle.expire_unpaid(conn, now=now + timedelta(days=2)) == []
        assert (await check(conn)).ok


async def test_ship_deliver_return_and_set_partial_cancel(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        pan, lid = await seed.product(conn, "POT", skus=2, stock=20)
        kit = await seed.bundle(conn, "POTKIT", [(pan, 2), (lid, 1)])
        (cust,) = await seed.customers(conn, 1)
        order = await place_order(conn, request=seed.order(cust, [(kit, 4), (lid, 1)]))
        assert (await _reserved(conn)) == {pan: (20, 8), lid: (20, 5)}
        kit_line = order.lines[0].id
        after = await lifecycle.cancel(conn, order_id=order.id, actor="t", lines={kit_line: 1})
        assert after.lines[0].open_qty == 3
        assert (await _reserved(conn)) == {pan: (20, 6), lid: (20, 4)}
        shipped = await lifecycle.mark_shipped(conn, order_id=order.id, actor="t")
        again = await lifecycle.mark_shipped(conn, order_id=order.id, actor="t")
        assert shipped.status is again.status is OrderStatus.SHIPPED
        assert (await _reserved(conn)) == {pan: (14, 0), lid: (16, 0)}
        await lifecycle.mark_delivered(conn, order_id=order.id, actor="t")
        await lifecycle.mark_delivered(conn, order_id=order.id, actor="t")
        await restock_return(conn, sku_id=lid, qty=1, order_id=order.id, actor="t")
        assert (await _reserved(conn))[lid] == (17, 0)
        kinds = [
            r["kind"]
            for r in await conn.fetch("SELECT DISTINCT kind FROM stock_movements ORDER BY kind")
        ]
        assert kinds == ["receipt", "release", "reservation", "return", "shipment"]
        topics = [r["topic"] for r in await conn.fetch("SELECT topic FROM outbox ORDER BY id")]
        assert topics == ["order.paid", "order.cancelled"]
        assert (await check(conn)).ok


async def test_check_finds_a_counter_that_drifted(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        (sku,) = await seed.product(conn, "DRIFT", stock=5)
        assert (await check(conn)).ok
        await conn.execute("UPDATE stock SET on_hand = on_hand + 1 WHERE sku_id = $1", sku)
        result = await check(conn)
        assert not result.ok
        (bad,) = result.mismatches
        assert (bad.on_hand, bad.ledger_on_hand) == (6, 5)


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["order", "cancel", "cancel_line", "ship", "receive", "adjust", "expire"]),
        st.integers(0, 2),
        st.integers(1, 4),
    ),
    min_size=5,
    max_size=25,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS)
async def test_counters_equal_ledger_after_random_workload(
    pool: asyncpg.Pool, actions: list[tuple[str, int, int]]
) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "TRUNCATE orders, order_lines, order_allocations, order_events, outbox, "
            "stock, stock_movements, set_components, skus, products CASCADE"
        )
        a, b = await seed.product(conn, "RND", skus=2, stock=5)
        kit = await seed.bundle(conn, "RNDKIT", [(a, 1), (b, 2)])
        skus = [a, b, kit]
        cust = await conn.fetchval("SELECT id FROM customers LIMIT 1")
        if cust is None:
            (cust,) = await seed.customers(conn, 1)
        orders: list[int] = []
        for action, which, n in actions:
            try:
                async with conn.transaction():
                    if action == "order":
                        method = [
                            PaymentMethod.CARD,
                            PaymentMethod.VIRTUAL_ACCOUNT,
                            PaymentMethod.COD,
                        ][which]
                        o = await place_order(
                            conn,
                            request=seed.order(
                                cust,
                                [(skus[which], n), (skus[(which + 1) % 3], 1)],
                                method=method,
                                pay_deadline=datetime.now(UTC) - timedelta(seconds=1)
                                if method is PaymentMethod.VIRTUAL_ACCOUNT
                                else None,
                            ),
                        )
                        orders.append(o.id)
                    elif action == "receive":
                        await receive(conn, sku=skus[which % 2], qty=n, actor="h")
                    elif action == "adjust":
                        await adjust(conn, sku=skus[which % 2], delta=-n, reason="count", actor="h")
                    elif action == "expire":
                        await lifecycle.expire_unpaid(conn)
                    elif orders:
                        oid = orders[(which * 7 + n) % len(orders)]
                        if action == "cancel":
                            await lifecycle.cancel(conn, order_id=oid, actor="h")
                        elif action == "ship":
                            await lifecycle.mark_shipped(conn, order_id=oid, actor="h")
                        else:
                            o = await get_order(conn, order_id=oid)
                            line = o.lines[which % len(o.lines)]
                            await lifecycle.cancel(
                                conn,
                                order_id=oid,
                                actor="h",
                                lines={line.id: min(n, line.open_qty) or 1},
                            )
            except (OrdersError, LogisticsError):
                pass  # refused, and its transaction rolled back
        assert (await check(conn)).ok
        # Reserved units equal what open orders' allocations hold.
        assert await conn.fetchval(
            "SELECT coalesce(sum(reserved), 0) FROM stock"
        ) == await conn.fetchval("SELECT coalesce(sum(qty), 0) FROM order_allocations")
