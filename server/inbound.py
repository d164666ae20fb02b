"""Wiring the inbound side to the other domains (the dialer does not import orders):
the ARS's products on air from the catalog, and its orders through the very capture
path an agent's order takes (`views_orders.to_request` + the reservation batcher)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from aiohttp import web

from crm import contacts
from dialer.inbound.ars import DEFAULT_MAX_QTY, Option, OrderIntent, Product
from dialer.live.inbound import basic_inbound_pop
from dialer.live.inbound_call import Caller
from dialer.store import stats
from orders import catalog, idempotency
from orders import reads as order_reads
from orders.errors import AlreadyAnswered, OrdersError, OutOfStock
from server.views_orders import CardIn, CodIn, DeliveryIn, LineIn, OrderIn, batcher_for, to_request

ARS_USER_ID = 0  # the ARS's idempotency keys live beside agents' under this user id
ARS_ACTOR = "ars"


async def products_for(conn: asyncpg.Connection, codes: Sequence[str]) -> tuple[Product, ...]:
    """The products on air, in the schedule's order, with each option's price and stock."""
    out = []
    for code in codes:
        found = await catalog.search_products(conn, q=code, limit=20)
        view = next((p for p in found if p.code == code), None)
        if view is None or not view.skus:
            continue
        options = tuple(
            Option(sku_id=s.id, label=" ".join(x for x in (s.color, s.size) if x) or s.code,
                   unit_price_krw=s.price_krw, available=s.available)
            for s in view.skus)
        limit = min(DEFAULT_MAX_QTY, view.per_customer_limit or DEFAULT_MAX_QTY)
        out.append(Product(product_id=view.id, name=view.name, options=options, max_qty=limit))
    return tuple(out)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ArsOrderResult:
    order_id: int | None
    total_krw: int | None = None
    out_of_stock: bool = False
    reason: str | None = None  # the capture's error code when refused


def ars_order_body(intent: OrderIntent, customer: Mapping[str, Any]) -> OrderIn:
    """The same request body an agent's desktop sends for this order."""
    payment: CardIn | CodIn = (
        CodIn(method="cod") if intent.payment == "cod" else CardIn(method="card"))
    return OrderIn(
        customer_id=intent.customer_id,
        lines=[LineIn(sku_id=intent.sku_id, qty=intent.qty)],
        delivery=DeliveryIn(name=str(customer.get("name") or "고객"),
                            phone=str(customer["phone_e164"]),
                            address=str(customer["address"]),
                            postal_code=str(customer["postal_code"])),
        payment=payment,
    )


async def place_ars_order(
    app: web.Application, *, intent: OrderIntent, customer: Mapping[str, Any]
) -> ArsOrderResult:
    """Place the ARS's order as an agent's is placed: same body, same request mapping, same
    batcher and capture; idempotent on the call (the key is the call's), never oversold."""
    body = ars_order_body(intent, customer)
    request = to_request(body, user_id=ARS_USER_ID, actor=ARS_ACTOR, key=intent.idempotency_key,
                         digest=idempotency.request_hash(body.model_dump(mode="json")))
    request = dataclasses.replace(request, agent_id=None)  # no agent took it
    try:
        order = await batcher_for(app).submit(request)
    except AlreadyAnswered as exc:
        stored = exc.body if isinstance(exc.body, dict) else {}
        return ArsOrderResult(order_id=int(stored["id"]), total_krw=int(stored["total_krw"]))
    except OutOfStock:
        return ArsOrderResult(order_id=None, out_of_stock=True)
    except OrdersError as exc:
        return ArsOrderResult(order_id=None, reason=exc.code)
    return ArsOrderResult(order_id=order.id, total_krw=order.total_krw)


async def build_inbound_pop(
    conn: asyncpg.Connection, caller: Caller, attempt_id: int
) -> dict[str, Any]:
    """The inbound screen pop: the dialer's (caller, queue, what is on air) with the
    customer's purchases and contacts, the order form's products and the on-air products'
    names and prices, as an outbound pop has them."""
    pop = await basic_inbound_pop(caller, attempt_id)
    customer_id = caller.customer["id"] if caller.customer else None
    if customer_id is not None:
        orders = await order_reads.recent_for_customer(conn, customer_id=customer_id, limit=5)
        history = await contacts.recent_contacts(conn, customer_id=customer_id, limit=10)
        names = await stats.campaign_names(
            conn, campaign_ids=[c.campaign_id for c in history if c.campaign_id is not None])
        pop["orders"] = [
            {"id": o.id, "placed_at": o.placed_at.isoformat(), "status": o.status.value,
             "total_krw": o.total_krw, "items": o.items} for o in orders]  # fmt: skip
        pop["contacts"] = [
            {"at": c.at.isoformat(), "outcome": c.outcome, "disposition": c.disposition,
             "note": c.note,
             "campaign": names.get(c.campaign_id) if c.campaign_id is not None else None}
            for c in history]  # fmt: skip
        pop["bought_product_ids"] = await order_reads.products_bought(conn,
                                                                      customer_id=customer_id)
    on_air = pop["inbound"]["on_air"]
    if on_air is not None:
        found = [await catalog.search_products(conn, q=code, limit=5) for code in on_air["codes"]]
        views = [next((p for p in hits if p.code == code), None)
                 for code, hits in zip(on_air["codes"], found, strict=True)]
        shown = [p for p in views if p is not None]
        on_air["products"] = [
            {"id": p.id, "code": p.code, "name": p.name, "price_krw": p.price_krw,
             "broadcast_price_krw": p.broadcast_price_krw} for p in shown]  # fmt: skip
        pop["products"] = [catalog.product_json(p) for p in shown]
    return pop
