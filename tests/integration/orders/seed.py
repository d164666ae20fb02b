"""Seeding helpers for orders and stock tests."""

from __future__ import annotations

import asyncpg

from logistics.stock import receive
from orders.catalog import ComponentSpec, ProductSpec, VariantSpec, create_product
from orders.models import LineRequest, OrderRequest, PaymentMethod

DELIVERY = {
    "name": "김철수",
    "phone": "+821012345678",
    "address": "서울시 중구 1",
    "postal_code": "04524",
}


async def customers(conn: asyncpg.Connection, n: int) -> list[int]:
    rows = await conn.fetch(
        "INSERT INTO customers (name, phone_e164) "
        "SELECT 'c' || g, '+8210' || lpad(g::text, 8, '0') FROM generate_series(1, $1) g "
        "RETURNING id",
        n,
    )
    return [r["id"] for r in rows]


async def product(
    conn: asyncpg.Connection,
    code: str,
    *,
    skus: int = 1,
    price: int = 10_000,
    limit: int | None = None,
    stock: int = 0,
) -> list[int]:
    """A product with `skus` plain SKUs `<code>-<i>`, each with `stock` units."""
    view = await create_product(
        conn,
        spec=ProductSpec(
            code=code,
            name=f"product {code}",
            category="kitchen",
            price_krw=price,
            per_customer_limit=limit,
            variants=tuple(VariantSpec(code=f"{code}-{i}", size=str(i)) for i in range(skus)),
        ),
    )
    ids = [s.id for s in view.skus]
    if stock:
        for sku_id in ids:
            await receive(conn, sku=sku_id, qty=stock, actor="test")
    return ids


async def bundle(conn: asyncpg.Connection, code: str, parts: list[tuple[int, int]]) -> int:
    view = await create_product(
        conn,
        spec=ProductSpec(
            code=code,
            name=f"set {code}",
            category="sets",
            price_krw=25_000,
            variants=(
                VariantSpec(
                    code=f"{code}-SET",
                    components=tuple(ComponentSpec(sku=s, qty=q) for s, q in parts),
                ),
            ),
        ),
    )
    return view.skus[0].id


def order(
    customer_id: int,
    lines: list[tuple[int, int]],
    *,
    method: PaymentMethod = PaymentMethod.CARD,
    **kw: object,
) -> OrderRequest:
    return OrderRequest(
        customer_id=customer_id,
        lines=tuple(LineRequest(sku_id=s, qty=q) for s, q in lines),
        delivery=DELIVERY,
        payment_method=method,
        actor="test",
        **kw,  # type: ignore[arg-type]
    )
