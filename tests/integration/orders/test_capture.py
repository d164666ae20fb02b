"""Order capture on the domain functions: never oversell, all lines or none, no deadlock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from logistics.stock import check
from orders.batcher import ReservationBatcher
from orders.capture import place_order
from orders.errors import LimitExceeded, OrdersError, OutOfStock, UnknownSku
from orders.models import Order, OrderStatus, PaymentMethod
from tests.integration.orders import seed


async def _place(pool: asyncpg.Pool, request: seed.OrderRequest) -> Order | OrdersError:
    try:
        async with pool.acquire() as conn, conn.transaction():
            return await place_order(conn, request=request)
    except OrdersError as exc:
        return exc


async def test_500_concurrent_orders_for_100_units_accept_exactly_100(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        (sku,) = await seed.product(conn, "HOT", stock=100)
        custs = await seed.customers(conn, 50)
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(_place(pool, seed.order(custs[i % 50], [(sku, 1)])) for i in range(500))),
        timeout=60,
    )
    accepted = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if isinstance(o, OutOfStock)]
    assert len(accepted) == 100
    assert len(refused) == 400
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT on_hand, reserved FROM stock WHERE sku_id = $1", sku)
        assert (row["on_hand"], row["reserved"]) == (100, 100)
        assert await conn.fetchval("SELECT count(*) FROM orders") == 100
        assert (await check(conn)).ok


async def test_batcher_never_oversells_and_batches(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        (sku,) = await seed.product(conn, "HOTB", stock=100)
        (cust,) = await seed.customers(conn, 1)
    batcher = ReservationBatcher(pool)

    async def one(qty: int) -> Order | OrdersError:
        try:
            return await batcher.submit(seed.order(cust, [(sku, qty)]))
        except OrdersError as exc:
            return exc

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(one(1 + i % 3) for i in range(300))), timeout=60
    )
    units = sum(o.lines[0].qty for o in outcomes if isinstance(o, Order))
    assert units <= 100
    assert units >= 98  # refusals only when what is left is smaller than the order
    assert batcher.largest_batch > 1
    async with pool.acquire() as conn:
        reserved = await conn.fetchval("SELECT reserved FROM stock WHERE sku_id = $1", sku)
        assert reserved == units
        assert (await check(conn)).ok


async def test_short_line_refuses_whole_order_and_names_sku(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        a, b = await seed.product(conn, "TWO", skus=2, stock=5)
        await conn.execute("UPDATE stock SET on_hand = 3 WHERE sku_id = $1", b)  # set below
        await conn.execute(  # keep the ledger honest for the check below
            "INSERT INTO stock_movements (stock_id, kind, on_hand_delta, reason) "
            "SELECT id, 'adjustment', -2, 'test' FROM stock WHERE sku_id = $1",
            b,
        )
        (cust,) = await seed.customers(conn, 1)
    result = await _place(pool, seed.order(cust, [(a, 2), (b, 4)]))
    assert isinstance(result, OutOfStock)
    assert result.field == "lines.1.sku_id"
    assert result.extra["available"] == 3
    assert "TWO-1" in str(result)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT sum(reserved) FROM stock") == 0
        assert await conn.fetchval("SELECT count(*) FROM orders") == 0
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
        assert (await check(conn)).ok


async def test_opposite_line_orders_do_not_deadlock(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        a, b = await seed.product(conn, "DL", skus=2, stock=1000)
        (cust,) = await seed.customers(conn, 1)
    requests = [
        seed.order(cust, [(a, 1), (b, 1)] if i % 2 else [(b, 1), (a, 1)]) for i in range(200)
    ]
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(_place(pool, r) for r in requests)), timeout=60
    )
    assert all(isinstance(o, Order) for o in outcomes), [
        o for o in outcomes if not isinstance(o, Order)
    ]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT sum(reserved) FROM stock") == 400


async def test_set_consumes_components_and_limits_apply(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        pan, lid = await seed.product(conn, "PAN", skus=2, stock=10)
        kit = await seed.bundle(conn, "KIT", [(pan, 2), (lid, 1)])
        (limited,) = await seed.product(conn, "LIM", limit=2, stock=10)
        (cust,) = await seed.customers(conn, 1)
        order = await place_order(conn, request=seed.order(cust, [(kit, 3)]))
        assert order.status is OrderStatus.PAID
        reserved = dict(await conn.fetch("SELECT sku_id, reserved FROM stock"))
        assert reserved[pan] == 6
        assert reserved[lid] == 3
        with pytest.raises(OutOfStock) as short:
            await place_order(conn, request=seed.order(cust, [(kit, 3)]))
        assert short.value.extra["available"] == 2  # floor(4 / 2)
        await place_order(conn, request=seed.order(cust, [(limited, 2)]))
        with pytest.raises(LimitExceeded) as over:
            await place_order(conn, request=seed.order(cust, [(limited, 1)]))
        assert over.value.field == "lines.0.qty"
        with pytest.raises(UnknownSku):
            await place_order(conn, request=seed.order(cust, [(999_999, 1)]))


async def test_outbox_rows_by_payment_method(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        (sku,) = await seed.product(conn, "OB", stock=10)
        (cust,) = await seed.customers(conn, 1)
        card = await place_order(conn, request=seed.order(cust, [(sku, 1)]))
        cod = await place_order(
            conn, request=seed.order(cust, [(sku, 1)], method=PaymentMethod.COD)
        )
        va = await place_order(
            conn,
            request=seed.order(
                cust,
                [(sku, 1)],
                method=PaymentMethod.VIRTUAL_ACCOUNT,
                pay_deadline=datetime.now(UTC) + timedelta(days=1),
            ),
        )
        rows = await conn.fetch("SELECT topic, key, payload FROM outbox ORDER BY id")
        assert [(r["topic"], r["key"]) for r in rows] == [
            ("order.paid", str(card.id)),
            ("order.paid", str(cod.id)),
        ]
        assert rows[1]["payload"]["cod"] is True
        assert rows[0]["payload"]["lines"] == [{"sku_id": sku, "qty": 1}]
        assert va.status is OrderStatus.PLACED
        assert cod.status is OrderStatus.PLACED
