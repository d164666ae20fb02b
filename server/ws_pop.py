"""The screen pop: customer card, purchase and contact history, the script filled in and
the order form's products with live stock. Built while the phone rings."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from dialer.live.campaign_loop import LiveCampaign
from dialer.store.campaigns_config import render_script
from dialer.store.hopper import LeasedLead
from orders import catalog

POP_PRODUCTS = 12  # products on the order form; the agent can search for more
PRODUCTS_TTL_S = 2.0
_CUSTOMER = """
SELECT id, name, phone_e164, email, address, postal_code, region, tz,
       consent_marketing, consent_night
FROM customers WHERE id = $1
"""
_ORDERS = """
SELECT o.id, o.placed_at, o.status, o.total_krw,
       (SELECT string_agg(p.name || ' x' || l.qty, ', ' ORDER BY l.id)
        FROM order_lines l JOIN skus s ON s.id = l.sku_id JOIN products p ON p.id = s.product_id
        WHERE l.order_id = o.id) AS items
FROM orders o WHERE o.customer_id = $1 ORDER BY o.placed_at DESC LIMIT 5
"""
_CONTACTS = """
SELECT a.at, a.outcome, a.disposition, a.details ->> 'note' AS note, k.name AS campaign
FROM contact_attempts a LEFT JOIN campaigns k ON k.id = a.campaign_id
WHERE a.customer_id = $1 ORDER BY a.at DESC LIMIT 10
"""


class _ProductCache:
    """The order form's products for every pop: re-read at most every PRODUCTS_TTL_S.
    (Stock on the form is as fresh as that; *Refresh stock* on the desktop re-reads it.)"""

    def __init__(self) -> None:
        self.at_s = -PRODUCTS_TTL_S
        self.items: list[dict[str, Any]] = []
        self.lock = asyncio.Lock()

    async def get(self, conn: asyncpg.Connection) -> list[dict[str, Any]]:
        if time.monotonic() - self.at_s < PRODUCTS_TTL_S:
            return self.items
        async with self.lock:
            if time.monotonic() - self.at_s >= PRODUCTS_TTL_S:
                found = await catalog.search_products(conn, q=None, category=None, after_id=0,
                                                      limit=POP_PRODUCTS)
                self.items = [catalog.product_json(p) for p in found]
                self.at_s = time.monotonic()
        return self.items


_products = _ProductCache()


async def build_pop(
    conn: asyncpg.Connection, campaign: LiveCampaign, lead: LeasedLead, attempt_id: int
) -> dict[str, Any]:
    customer = await conn.fetchrow(_CUSTOMER, lead.customer_id)
    orders = await conn.fetch(_ORDERS, lead.customer_id)
    contacts = await conn.fetch(_CONTACTS, lead.customer_id)
    products = await _products.get(conn)
    name = customer["name"] if customer else ""
    fields = {
        "name": name, "first_name": name.split(" ")[0] if name else "",
        "region": customer["region"] if customer else "", "campaign": campaign.name,
        "agent": "{{agent}}",  # the desktop fills in who took the call
        "last_purchase_date": orders[0]["placed_at"].date().isoformat() if orders else "",
    }  # fmt: skip
    return {
        "attempt_id": attempt_id,
        "lead_id": lead.lead_id,
        "campaign": {"id": campaign.campaign_id, "name": campaign.name,
                     "dispositions": [d.model_dump() for d in campaign.dispositions.values()],
                     "personal_callbacks": campaign.callbacks.allow_personal},
        "customer": {
            "id": lead.customer_id, "name": name, "phone": lead.phone_e164,
            "email": customer["email"] if customer else None,
            "address": customer["address"] if customer else None,
            "postal_code": customer["postal_code"] if customer else None,
            "region": fields["region"],
        },
        "orders": [
            {"id": o["id"], "placed_at": o["placed_at"].isoformat(), "status": o["status"],
             "total_krw": o["total_krw"], "items": o["items"] or ""}
            for o in orders
        ],
        "contacts": [
            {"at": c["at"].isoformat(), "outcome": c["outcome"],
             "disposition": c["disposition"], "note": c["note"], "campaign": c["campaign"]}
            for c in contacts
        ],
        "source_line": render_script(campaign.data_source_line, fields),
        "script": render_script(campaign.script, fields),
        "products": products,
    }
