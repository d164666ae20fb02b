"""The logistics board: shipments by status and carrier, a timeline, exceptions, returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from config.sql import load_queries
from logistics.carriers import CARRIERS
from logistics.exceptions import list_exceptions
from logistics.returns import NEXT, list_returns
from logistics.shipments import ShipmentNotFound, checkpoints, get_shipment, list_shipments
from logistics.tracking import KST, ShipmentStatus
from server.auth import Role, allow, page_user
from server.keys import POOL

routes = web.RouteTableDef()
Q = load_queries("logistics", "shipments.sql")
PAGE_SIZE = 25
STATUSES = [s.value for s in ShipmentStatus]


def kst(at: datetime | None) -> str:
    """A time as staff read it: Asia/Seoul, to the minute."""
    return at.astimezone(KST).strftime("%Y-%m-%d %H:%M") if at else ""


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@routes.get("/logistics")
@allow("logistics", "supervisor")
@aiohttp_jinja2.template("logistics.html")
async def logistics_board(request: web.Request) -> dict[str, Any]:
    user = page_user(request, Role.LOGISTICS, Role.SUPERVISOR)
    query = request.query
    status = query.get("status") if query.get("status") in STATUSES else None
    carrier = query.get("carrier") if query.get("carrier") in CARRIERS else None
    q = (query.get("q") or "").strip() or None
    cursor = _int(query.get("cursor"))
    selected_id = _int(query.get("shipment"))
    async with request.app[POOL].acquire() as conn:
        rows = await conn.fetch(Q["status_counts"])
        items, nxt = await list_shipments(
            conn, status=status, carrier_code=carrier, q=q, before_id=cursor, limit=PAGE_SIZE
        )
        selected, timeline = None, []
        if selected_id is not None:
            try:
                selected = await get_shipment(conn, shipment_id=selected_id)
                timeline = await checkpoints(conn, shipment_id=selected_id)
            except ShipmentNotFound:
                selected = None
        exceptions = await list_exceptions(conn, limit=50)
        returns, _ = await list_returns(conn, limit=20)
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        counts.setdefault(r["status"], {})[r["carrier"]] = r["n"]
    filters = {"status": status or "", "carrier": carrier or "", "q": q or ""}
    return {
        "kst": kst, "carrier_names": {c.code: c.name for c in CARRIERS.values()},
        "can_edit": user.role in (Role.LOGISTICS, Role.ADMIN),
        "statuses": STATUSES, "carriers": list(CARRIERS.values()), "counts": counts,
        "totals": {s: sum(c.values()) for s, c in counts.items()},
        "items": items, "next_cursor": nxt, "filters": filters, "paged": cursor is not None,
        "selected": selected, "timeline": timeline, "exceptions": exceptions,
        "returns": returns, "return_next": {r.id: sorted(NEXT.get(r.status, ())) for r in returns},
    }  # fmt: skip
