"""The catalog: products with size x colour variants (SKUs), prices, a broadcast price
valid in a time window, a per-customer limit, and bundle sets whose SKU consumes its
components' stock. Reads carry live availability for the agent's order form."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from config.sql import load_queries
from logistics.stock import available
from orders.capture import effective_price
from orders.errors import CatalogConflict, InvalidOrder, ProductNotFound

Q = load_queries("orders", "catalog.sql")


@dataclass(frozen=True, kw_only=True)
class ComponentSpec:
    sku: int | str  # id or code of a plain SKU
    qty: int


@dataclass(frozen=True, kw_only=True)
class VariantSpec:
    code: str
    size: str | None = None
    color: str | None = None
    price_krw: int | None = None
    components: tuple[ComponentSpec, ...] = ()  # non-empty: a bundle set


@dataclass(frozen=True, kw_only=True)
class ProductSpec:
    code: str
    name: str
    category: str
    price_krw: int
    variants: tuple[VariantSpec, ...]
    broadcast_price_krw: int | None = None
    broadcast_from: datetime | None = None
    broadcast_until: datetime | None = None
    per_customer_limit: int | None = None


@dataclass(frozen=True, kw_only=True)
class SkuView:
    id: int
    code: str
    size: str | None
    color: str | None
    price_krw: int  # what an order placed now pays
    is_set: bool
    components: tuple[tuple[int, int], ...]
    available: int


@dataclass(frozen=True, kw_only=True)
class ProductView:
    id: int
    code: str
    name: str
    category: str
    price_krw: int
    broadcast_price_krw: int | None
    broadcast_from: datetime | None
    broadcast_until: datetime | None
    per_customer_limit: int | None
    skus: tuple[SkuView, ...]


async def _resolve_components(conn: asyncpg.Connection, spec: ProductSpec) -> dict[int | str, int]:
    refs = [c.sku for v in spec.variants for c in v.components]
    codes = [r for r in refs if isinstance(r, str)]
    ids = [r for r in refs if isinstance(r, int)]
    found: dict[int | str, int] = {}
    for query, keys in (("sku_ids_by_code", codes), ("sku_ids_by_id", ids)):
        if not keys:
            continue
        for r in await conn.fetch(Q[query], keys):
            if r["is_set"]:
                raise InvalidOrder(f"SKU {r['code']} is a set: a set is made of plain SKUs")
            found[r["code"] if query == "sku_ids_by_code" else r["id"]] = r["id"]
    for vi, variant in enumerate(spec.variants):
        for ci, comp in enumerate(variant.components):
            if comp.sku not in found:
                raise InvalidOrder(
                    f"no SKU {comp.sku!r}", field=f"variants.{vi}.components.{ci}.sku"
                )
    return found


async def create_product(conn: asyncpg.Connection, *, spec: ProductSpec) -> ProductView:
    """Create a product and its SKUs (in the caller's transaction)."""
    if not spec.variants:
        raise InvalidOrder("a product needs at least one variant", field="variants")
    components = await _resolve_components(conn, spec)
    try:
        product_id = await conn.fetchval(
            Q["insert_product"],
            spec.code,
            spec.name,
            spec.category,
            spec.price_krw,
            spec.broadcast_price_krw,
            spec.broadcast_from,
            spec.broadcast_until,
            spec.per_customer_limit,
        )
        for variant in spec.variants:
            sku_id = await conn.fetchval(
                Q["insert_sku"],
                product_id,
                variant.code,
                variant.size,
                variant.color,
                variant.price_krw,
                bool(variant.components),
            )
            for comp in variant.components:
                await conn.execute(Q["insert_component"], sku_id, components[comp.sku], comp.qty)
    except asyncpg.UniqueViolationError as exc:
        what = "SKU" if "skus" in (exc.constraint_name or "") else "product"
        raise CatalogConflict(
            f"a {what} with that code exists already: {exc.detail}", field="code"
        ) from exc
    return await get_product(conn, product_id=product_id)


async def _views(
    conn: asyncpg.Connection, products: Sequence[asyncpg.Record], now: datetime
) -> list[ProductView]:
    skus = await conn.fetch(Q["skus_of_products"], [p["id"] for p in products])
    stocked = {k["id"] for k in skus if not k["is_set"]} | {
        c for k in skus for c in k["component_ids"]
    }
    free = await available(conn, sku_ids=stocked)
    by_product: dict[int, list[SkuView]] = defaultdict(list)
    prices = {p["id"]: p for p in products}
    for k in skus:
        comps = tuple(zip(k["component_ids"], k["component_qtys"], strict=True))
        if comps:
            # A set is as available as its scarcest component allows.
            avail = min(free.get(c, 0) // per for c, per in comps)
        else:
            avail = free.get(k["id"], 0)
        p = prices[k["product_id"]]
        price_row: dict[str, Any] = {**dict(p), "sku_price_krw": k["price_krw"]}
        by_product[k["product_id"]].append(
            SkuView(
                id=k["id"],
                code=k["code"],
                size=k["option_size"],
                color=k["option_color"],
                price_krw=effective_price(price_row, now),
                is_set=k["is_set"],
                components=comps,
                available=max(0, avail),
            )
        )
    return [
        ProductView(
            id=p["id"],
            code=p["code"],
            name=p["name"],
            category=p["category"],
            price_krw=p["price_krw"],
            broadcast_price_krw=p["broadcast_price_krw"],
            broadcast_from=p["broadcast_from"],
            broadcast_until=p["broadcast_until"],
            per_customer_limit=p["per_customer_limit"],
            skus=tuple(by_product[p["id"]]),
        )
        for p in products
    ]


async def search_products(
    conn: asyncpg.Connection,
    *,
    q: str | None = None,
    category: str | None = None,
    after_id: int = 0,
    limit: int = 20,
    now: datetime | None = None,
) -> list[ProductView]:
    rows = await conn.fetch(Q["search_products"], q or None, category, after_id, limit)
    return await _views(conn, rows, now or datetime.now(UTC))


async def get_product(
    conn: asyncpg.Connection, *, product_id: int, now: datetime | None = None
) -> ProductView:
    row = await conn.fetchrow(Q["product_by_id"], product_id)
    if row is None:
        raise ProductNotFound(f"no product {product_id}")
    return (await _views(conn, [row], now or datetime.now(UTC)))[0]


def product_json(p: ProductView) -> dict[str, Any]:
    def iso(d: datetime | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "id": p.id,
        "code": p.code,
        "name": p.name,
        "category": p.category,
        "price_krw": p.price_krw,
        "broadcast_price_krw": p.broadcast_price_krw,
        "broadcast_from": iso(p.broadcast_from),
        "broadcast_until": iso(p.broadcast_until),
        "per_customer_limit": p.per_customer_limit,
        "skus": [
            {
                "id": s.id,
                "code": s.code,
                "size": s.size,
                "color": s.color,
                "price_krw": s.price_krw,
                "is_set": s.is_set,
                "available": s.available,
                "components": [{"sku_id": c, "qty": q} for c, q in s.components],
            }
            for s in p.skus
        ],
    }
