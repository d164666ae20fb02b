"""The screen pop: customer card, purchase and contact history, the script filled in and
the order form's products with live stock. Built while the phone rings."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from crm import contacts
from crm.customers import customer_card
from dialer.live.campaign import LiveCampaign
from dialer.store import stats
from dialer.store.campaigns_config import render_script
from dialer.store.hopper import LeasedLead
from orders import catalog
from orders import reads as order_reads

POP_PRODUCTS = 12  # products on the order form; the agent can search for more
PRODUCTS_TTL_S = 2.0


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
    customer = await customer_card(conn, customer_id=lead.customer_id)
    orders = await order_reads.recent_for_customer(conn, customer_id=lead.customer_id, limit=5)
    history = await contacts.recent_contacts(conn, customer_id=lead.customer_id, limit=10)
    names = await stats.campaign_names(
        conn, campaign_ids=[c.campaign_id for c in history if c.campaign_id is not None])
    products = await _products.get(conn)
    bought = await order_reads.products_bought(conn, customer_id=lead.customer_id)
    name = customer.name if customer else ""
    fields = {
        "name": name, "first_name": name.split(" ")[0] if name else "",
        "region": customer.region if customer else "", "campaign": campaign.name,
        "agent": "{{agent}}",  # the desktop fills in who took the call
        "last_purchase_date": orders[0].placed_at.date().isoformat() if orders else "",
    }  # fmt: skip
    return {
        "attempt_id": attempt_id,
        "lead_id": lead.lead_id,
        "campaign": {"id": campaign.campaign_id, "name": campaign.name,
                     "dispositions": [d.model_dump() for d in campaign.dispositions.values()],
                     "personal_callbacks": campaign.callbacks.allow_personal},
        "customer": {
            "id": lead.customer_id, "name": name, "phone": lead.phone_e164,
            "email": customer.email if customer else None,
            "address": customer.address if customer else None,
            "postal_code": customer.postal_code if customer else None,
            "region": fields["region"],
        },
        "orders": [
            {"id": o.id, "placed_at": o.placed_at.isoformat(), "status": o.status.value,
             "total_krw": o.total_krw, "items": o.items}
            for o in orders
        ],
        "contacts": [
            {"at": c.at.isoformat(), "outcome": c.outcome, "disposition": c.disposition,
             "note": c.note,
             "campaign": names.get(c.campaign_id) if c.campaign_id is not None else None}
            for c in history
        ],
        "source_line": render_script(campaign.data_source_line, fields),
        "script": render_script(campaign.script, fields),
        "products": products,
        # The desktop holds the whole catalog; these come first on its list.
        "bought_product_ids": bought,
    }
