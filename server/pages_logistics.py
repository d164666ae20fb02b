"""The logistics board: shipments by status and carrier, a timeline, exceptions and what
was done about them, returns and exchanges (created from a shipment, moved with words)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from config.sql import load_queries
from logistics.carriers import CARRIERS
from logistics.exceptions import Action, last_actions, list_exceptions, shipment_actions
from logistics.returns import NEXT, Reason, ReturnStatus, list_returns, return_deadlines
from logistics.shipments import ShipmentNotFound, checkpoints, get_shipment, list_shipments
from logistics.tracking import ShipmentStatus
from server.auth import Role, allow, page_user
from server.i18n import gettext
from server.keys import POOL

routes = web.RouteTableDef()
Q = load_queries("logistics", "shipments.sql")
PAGE_SIZE = 25
STATUSES = [s.value for s in ShipmentStatus]
# Moves of a return that cannot be taken back: the page asks before it sends them.
FINAL_RETURN_MOVES = ("rejected", "cancelled", "refunded", "exchanged", "restocked")


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


async def _timeline(conn: Any, shipment_id: int) -> list[dict[str, Any]]:
    """Carrier checkpoints and staff actions, newest first, in the words staff read (no
    provider names or raw codes)."""
    items: list[dict[str, Any]] = []
    for c in await checkpoints(conn, shipment_id=shipment_id):
        location, message = c.location or "", c.message or ""
        if c.provider == "dispatch":  # our own record of the hand-over, in words
            location = gettext("Warehouse")
            message = gettext("Handed to the carrier")
        items.append({"at": c.occurred_at, "kind": "checkpoint", "status": c.status.value,
                      "location": location, "message": message})  # fmt: skip
    items += [
        {"at": a.at, "kind": "action", "action": a.action.value, "note": a.note,
         "actor": a.actor, "redeliver_on": a.redeliver_on}
        for a in await shipment_actions(conn, shipment_id=shipment_id)
    ]  # fmt: skip
    return sorted(items, key=lambda i: i["at"], reverse=True)


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
        selected, timeline, deadlines = None, [], {}
        if selected_id is not None:
            try:
                selected = await get_shipment(conn, shipment_id=selected_id)
                timeline = await _timeline(conn, selected_id)
                deadlines = await return_deadlines(conn, order_id=selected.order_id,
                                                   shipment_id=selected_id)  # fmt: skip
            except ShipmentNotFound:
                selected = None
        exceptions = await list_exceptions(conn, limit=50)
        done = await last_actions(conn, shipment_ids=[e.shipment_id for e in exceptions])
        returns, _ = await list_returns(conn, limit=20)
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        counts.setdefault(r["status"], {})[r["carrier"]] = r["n"]
    filters = {"status": status or "", "carrier": carrier or "", "q": q or ""}
    now = datetime.now(UTC)
    return_next = {s.value: sorted(n.value for n in NEXT.get(s, ())) for s in ReturnStatus}
    return {
        "carrier_names": {c.code: c.name for c in CARRIERS.values()},
        "can_edit": user.role in (Role.LOGISTICS, Role.ADMIN),
        "statuses": STATUSES, "carriers": list(CARRIERS.values()), "counts": counts,
        "totals": {s: sum(c.values()) for s, c in counts.items()},
        "items": items, "next_cursor": nxt, "filters": filters, "paged": cursor is not None,
        "selected": selected, "timeline": timeline,
        "deadlines": [(r.value, d, d is not None and d <= now) for r, d in deadlines.items()],
        "reasons": [r.value for r in Reason], "exceptions": exceptions, "done": done,
        "actions": [a.value for a in Action],
        "returns": returns, "return_next": return_next,
        "return_next_json": json.dumps(return_next), "final_moves": FINAL_RETURN_MOVES,
    }  # fmt: skip
