"""Shipments, tracking webhooks and returns over JSON."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from aiohttp import BodyPartReader, web
from pydantic import BaseModel, Field

from logistics.exceptions import (
    Action,
    ActionRefused,
    list_exceptions,
    record_action,
    shipment_actions,
)
from logistics.returns import (
    Reason,
    ReturnStatus,
    list_returns,
    request_return,
    set_return_status,
)
from logistics.shipments import (
    checkpoints,
    dispatch,
    get_shipment,
    list_shipments,
    split,
)
from logistics.shipments_csv import dispatch_csv
from logistics.tracking import (
    AFTERSHIP_SIGNATURE_HEADER,
    KST,
    PARSERS,
    SIGNATURE_HEADER,
    ShipmentStatus,
    aftership_signature_ok,
    parse_payload,
    signature_ok,
)
from logistics.tracking_ingest import ingest
from orders import reads
from server.access import audit_read, check_order
from server.auth import PUBLIC, Role, allow, current_user
from server.errors import ApiError, check_json, read_json
from server.keys import POOL, SETTINGS
from server.middlewares import body_limit, open_multipart, too_large
from server.params import Id, path_id, query_int, query_text

routes = web.RouteTableDef()
STAFF = ("logistics", "supervisor")
MAX_LIMIT = 200
DISPATCH_CSV_MAX_BYTES = 4 << 20
# A webhook is read whole before its signature can be checked: keep it small.
WEBHOOK_MAX_BYTES = 2 << 20


# --- shipments ------------------------------------------------------------------


@routes.get("/api/v1/shipments")
@allow(*STAFF)
async def shipments_index(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status is not None and status not in set(ShipmentStatus):
        raise ApiError(422, "invalid", f"unknown status {status!r}", field="status")
    limit = query_int(request, "limit", default=50, low=1, high=MAX_LIMIT) or 50
    async with request.app[POOL].acquire() as conn:
        items, nxt = await list_shipments(
            conn, status=status, carrier_code=query_text(request, "carrier"),
            q=query_text(request, "q"), before_id=query_int(request, "cursor"), limit=limit,
        )  # fmt: skip
        await audit_read(conn, current_user(request), "shipments", [s.id for s in items])
    return web.json_response(
        {"items": [s.as_json() for s in items], "next": str(nxt) if nxt else None}
    )


@routes.get("/api/v1/shipments/exceptions")
@allow(*STAFF)
async def shipments_exceptions(request: web.Request) -> web.Response:
    days = query_int(request, "stale_days", default=3, low=1, high=365) or 3
    limit = query_int(request, "limit", default=100, low=1, high=1000) or 100
    async with request.app[POOL].acquire() as conn:
        items = await list_exceptions(conn, stale_after=timedelta(days=days), limit=limit)
    return web.json_response({"items": [e.as_json() for e in items], "stale_days": days})


@routes.get(r"/api/v1/shipments/{id:[0-9]+}")
@allow(*STAFF)
async def shipment_detail(request: web.Request) -> web.Response:
    shipment_id = path_id(request)
    async with request.app[POOL].acquire() as conn:
        shipment = await get_shipment(conn, shipment_id=shipment_id)
        points = await checkpoints(conn, shipment_id=shipment_id)
        actions = await shipment_actions(conn, shipment_id=shipment_id)
        await audit_read(conn, current_user(request), "shipment", [shipment_id])
    return web.json_response({**shipment.as_json(), "checkpoints": [p.as_json() for p in points],
                              "actions": [a.as_json() for a in actions]})  # fmt: skip


class DispatchBody(BaseModel):
    carrier: str = Field(min_length=1, max_length=40)
    tracking_number: str = Field(min_length=1, max_length=40)


@routes.post(r"/api/v1/shipments/{id:[0-9]+}/dispatch")
@allow("logistics")
async def shipment_dispatch(request: web.Request) -> web.Response:
    body = DispatchBody.model_validate(await read_json(request))
    user = current_user(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        shipment = await dispatch(
            conn, shipment_id=path_id(request), carrier_code=body.carrier,
            tracking_number=body.tracking_number, actor=user.username,
        )  # fmt: skip
    return web.json_response(shipment.as_json())


class ActionBody(BaseModel):
    action: Action
    redeliver_on: date | None = None
    note: str = Field(default="", max_length=2000)


@routes.post(r"/api/v1/shipments/{id:[0-9]+}/actions")
@allow("logistics")
async def shipment_action(request: web.Request) -> web.Response:
    """Record what was done about a shipment in trouble (shown on its timeline)."""
    body = ActionBody.model_validate(await read_json(request))
    user = current_user(request)
    async with request.app[POOL].acquire() as conn:
        try:
            done = await record_action(
                conn, shipment_id=path_id(request), action=body.action,
                actor=user.username, note=body.note, redeliver_on=body.redeliver_on,
                today=datetime.now(KST).date(),
            )  # fmt: skip
        except ActionRefused as exc:
            raise ApiError(422, "invalid", str(exc), field="redeliver_on") from None
        except LookupError as exc:
            raise ApiError(404, "not_found", str(exc)) from None
    return web.json_response(done.as_json(), status=201)


class Line(BaseModel):
    sku_id: Id
    qty: int = Field(gt=0, le=1_000_000)


class SplitBody(BaseModel):
    lines: list[Line] = Field(min_length=1)


@routes.post(r"/api/v1/shipments/{id:[0-9]+}/split")
@allow("logistics")
async def shipment_split(request: web.Request) -> web.Response:
    body = SplitBody.model_validate(await read_json(request))
    async with request.app[POOL].acquire() as conn, conn.transaction():
        shipment = await split(
            conn, shipment_id=path_id(request),
            lines=[line.model_dump() for line in body.lines],
        )  # fmt: skip
    return web.json_response(shipment.as_json(), status=201)


async def _read_part(part: BodyPartReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(64 << 10):
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


@routes.post("/api/v1/shipments/dispatch.csv")
@allow("logistics")
@body_limit(DISPATCH_CSV_MAX_BYTES)
async def shipments_dispatch_csv(request: web.Request) -> web.Response:
    """A CSV body, or a multipart form with the file in any field."""
    if request.content_type.startswith("multipart/"):
        data = b""
        reader = await open_multipart(request)
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.filename is not None or not data:
                data = await _read_part(part, DISPATCH_CSV_MAX_BYTES)
    else:
        data = await request.read()
    user = current_user(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        reports = await dispatch_csv(conn, data=data, actor=user.username)
    ok = sum(r.ok for r in reports)
    return web.json_response(
        {"rows": len(reports), "ok": ok, "failed": len(reports) - ok,
         "report": [r.as_json() for r in reports]}
    )  # fmt: skip


# --- tracking webhook -----------------------------------------------------------


@routes.post("/api/v1/tracking/webhook/{provider}")
@allow(PUBLIC)
@body_limit(WEBHOOK_MAX_BYTES)
async def tracking_webhook(request: web.Request) -> web.Response:
    """Signed with the time: `X-Telemart-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of
    "<t>." + raw body>`, refused more than 5 minutes away from now (AfterShip's own
    body-only header is also taken for that provider). Events are de-duplicated by id."""
    provider = request.match_info["provider"]
    if provider not in PARSERS:
        raise ApiError(404, "unknown_provider", f"no tracking provider {provider!r}")
    secret = request.app[SETTINGS].tracking_secrets.get(provider)
    if secret is None:
        raise ApiError(403, "not_configured", f"no webhook secret is set for {provider!r}")
    body = await request.read()
    key = secret.get_secret_value()
    good = signature_ok(key, body, request.headers.get(SIGNATURE_HEADER)) or (
        provider == "aftership"
        and aftership_signature_ok(key, body, request.headers.get(AFTERSHIP_SIGNATURE_HEADER))
    )
    if not good:
        raise ApiError(401, "bad_signature",
                       f"missing, wrong or expired {SIGNATURE_HEADER} (t=<unix s>,v1=<hex>)")
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, "bad_json", "request body is not valid JSON") from exc
    check_json(document)
    events = parse_payload(provider, document)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        result = await ingest(conn, provider=provider, events=events, actor=f"webhook:{provider}")
    return web.json_response(result.as_json())


# --- returns --------------------------------------------------------------------


class ReturnBody(BaseModel):
    order_id: Id
    shipment_id: Id | None = None
    kind: Literal["return", "exchange"] = "return"
    reason: Reason
    lines: list[Line] | None = None
    note: str = Field(default="", max_length=2000)


class ReturnStatusBody(BaseModel):
    status: ReturnStatus
    pickup_carrier: str | None = Field(default=None, max_length=40)
    pickup_tracking_number: str | None = Field(default=None, max_length=40)
    note: str = Field(default="", max_length=2000)


@routes.get("/api/v1/returns")
@allow(*STAFF)
async def returns_index(request: web.Request) -> web.Response:
    status = query_text(request, "status")
    if status is not None and status not in set(ReturnStatus):
        raise ApiError(422, "invalid", f"unknown status {status!r}", field="status")
    async with request.app[POOL].acquire() as conn:
        items, nxt = await list_returns(
            conn, status=status, before_id=query_int(request, "cursor"),
            limit=query_int(request, "limit", default=50, low=1, high=MAX_LIMIT) or 50,
        )  # fmt: skip
        await audit_read(conn, current_user(request), "returns", [r.id for r in items])
    return web.json_response(
        {"items": [r.as_json() for r in items], "next": str(nxt) if nxt else None}
    )


@routes.post("/api/v1/returns")
@allow("logistics", "supervisor", "agent")
async def returns_create(request: web.Request) -> web.Response:
    body = ReturnBody.model_validate(await read_json(request))
    user = current_user(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if user.role is Role.AGENT:  # an agent takes returns of its own orders only
            order = await reads.get_order(conn, order_id=body.order_id)
            check_order(user, body.order_id, order.agent_id)
        ret = await request_return(
            conn, order_id=body.order_id, shipment_id=body.shipment_id, kind=body.kind,
            reason=body.reason, actor=user.username, note=body.note,
            lines=[x.model_dump() for x in body.lines] if body.lines else None,
            now=datetime.now(UTC),
        )  # fmt: skip
    return web.json_response(ret.as_json(), status=201)


@routes.post(r"/api/v1/returns/{id:[0-9]+}/status")
@allow("logistics")
async def returns_status(request: web.Request) -> web.Response:
    body = ReturnStatusBody.model_validate(await read_json(request))
    user = current_user(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        ret = await set_return_status(
            conn, return_id=path_id(request), status=body.status,
            actor=user.username, pickup_carrier=body.pickup_carrier,
            pickup_tracking_number=body.pickup_tracking_number, note=body.note,
        )  # fmt: skip
    return web.json_response(ret.as_json())


