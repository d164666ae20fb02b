"""Shipments, tracking webhooks and returns over JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from logistics.carriers import BadTrackingNumber, UnknownCarrier
from logistics.errors import LogisticsError
from logistics.exceptions import list_exceptions
from logistics.returns import (
    Reason,
    ReturnNotFound,
    ReturnStatus,
    WindowClosed,
    list_returns,
    request_return,
    set_return_status,
)
from logistics.shipments import (
    BadLines,
    ShipmentConflict,
    ShipmentNotFound,
    checkpoints,
    dispatch,
    get_shipment,
    list_shipments,
    split,
)
from logistics.shipments_csv import BadCsv, dispatch_csv
from logistics.tracking import (
    AFTERSHIP_SIGNATURE_HEADER,
    PARSERS,
    SIGNATURE_HEADER,
    BadPayload,
    ShipmentStatus,
    aftership_signature_ok,
    parse_payload,
    signature_ok,
)
from logistics.tracking_ingest import ingest
from server.auth import PUBLIC, allow, current_user
from server.errors import ApiError, read_json
from server.keys import POOL, SETTINGS

routes = web.RouteTableDef()
STAFF = ("logistics", "supervisor")
MAX_LIMIT = 200


def api_error(exc: LogisticsError) -> ApiError:
    """A logistics refusal as the JSON error a client can act on."""
    if isinstance(exc, ShipmentNotFound | ReturnNotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, WindowClosed):
        return ApiError(
            422, "cancellation_window_closed", str(exc), field="order_id",
            deadline=exc.deadline.isoformat(),
        )  # fmt: skip
    if isinstance(exc, UnknownCarrier):
        return ApiError(422, "unknown_carrier", str(exc), field="carrier")
    if isinstance(exc, BadTrackingNumber):
        return ApiError(422, "bad_tracking_number", str(exc), field="tracking_number")
    if isinstance(exc, BadLines):
        return ApiError(422, "bad_lines", str(exc), field="lines")
    if isinstance(exc, BadCsv | BadPayload):
        return ApiError(422, "bad_payload", str(exc))
    if isinstance(exc, ShipmentConflict):
        return ApiError(409, "conflict", str(exc))
    return ApiError(409, "refused", str(exc), field=getattr(exc, "field", None))


def _int_param(request: web.Request, name: str, default: int | None, hi: int) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit():
        raise ApiError(422, "invalid", f"{name} must be a whole number", field=name)
    return min(int(raw), hi)


# --- shipments ------------------------------------------------------------------


@routes.get("/api/v1/shipments")
@allow(*STAFF)
async def shipments_index(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status is not None and status not in set(ShipmentStatus):
        raise ApiError(422, "invalid", f"unknown status {status!r}", field="status")
    limit = _int_param(request, "limit", 50, MAX_LIMIT) or 50
    async with request.app[POOL].acquire() as conn:
        items, nxt = await list_shipments(
            conn, status=status, carrier_code=request.query.get("carrier") or None,
            q=request.query.get("q") or None,
            before_id=_int_param(request, "cursor", None, 2**62), limit=limit,
        )  # fmt: skip
    return web.json_response(
        {"items": [s.as_json() for s in items], "next": str(nxt) if nxt else None}
    )


@routes.get("/api/v1/shipments/exceptions")
@allow(*STAFF)
async def shipments_exceptions(request: web.Request) -> web.Response:
    days = _int_param(request, "stale_days", 3, 365) or 3
    limit = _int_param(request, "limit", 100, 1000) or 100
    async with request.app[POOL].acquire() as conn:
        items = await list_exceptions(conn, stale_after=timedelta(days=days), limit=limit)
    return web.json_response({"items": [e.as_json() for e in items], "stale_days": days})


@routes.get(r"/api/v1/shipments/{id:\d+}")
@allow(*STAFF)
async def shipment_detail(request: web.Request) -> web.Response:
    shipment_id = int(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        try:
            shipment = await get_shipment(conn, shipment_id=shipment_id)
        except LogisticsError as exc:
            raise api_error(exc) from None
        points = await checkpoints(conn, shipment_id=shipment_id)
    return web.json_response(
        {**shipment.as_json(), "checkpoints": [p.as_json() for p in points]}
    )


class DispatchBody(BaseModel):
    carrier: str = Field(min_length=1, max_length=40)
    tracking_number: str = Field(min_length=1, max_length=40)


@routes.post(r"/api/v1/shipments/{id:\d+}/dispatch")
@allow("logistics")
async def shipment_dispatch(request: web.Request) -> web.Response:
    body = DispatchBody.model_validate(await read_json(request))
    user = current_user(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        try:
            shipment = await dispatch(
                conn, shipment_id=int(request.match_info["id"]), carrier_code=body.carrier,
                tracking_number=body.tracking_number, actor=user.username,
            )  # fmt: skip
        except LogisticsError as exc:
            raise api_error(exc) from None
    return web.json_response(shipment.as_json())


class Line(BaseModel):
    sku_id: int = Field(gt=0)
    qty: int = Field(gt=0)


class SplitBody(BaseModel):
    lines: list[Line] = Field(min_length=1)


@routes.post(r"/api/v1/shipments/{id:\d+}/split")
@allow("logistics")
async def shipment_split(request: web.Request) -> web.Response:
    body = SplitBody.model_validate(await read_json(request))
    async with request.app[POOL].acquire() as conn, conn.transaction():
        try:
            shipment = await split(
                conn, shipment_id=int(request.match_info["id"]),
                lines=[line.model_dump() for line in body.lines],
            )  # fmt: skip
        except LogisticsError as exc:
            raise api_error(exc) from None
    return web.json_response(shipment.as_json(), status=201)


@routes.post("/api/v1/shipments/dispatch.csv")
@allow("logistics")
async def shipments_dispatch_csv(request: web.Request) -> web.Response:
    """A CSV body, or a multipart form with the file in any field."""
    if request.content_type.startswith("multipart/"):
        data = b""
        reader = await request.multipart()
        async for part in reader:
            if getattr(part, "filename", None) is not None or not data:
                data = await part.read()  # type: ignore[union-attr]
    else:
        data = await request.read()
    user = current_user(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        try:
            reports = await dispatch_csv(conn, data=data, actor=user.username)
        except LogisticsError as exc:
            raise api_error(exc) from None
    ok = sum(r.ok for r in reports)
    return web.json_response(
        {"rows": len(reports), "ok": ok, "failed": len(reports) - ok,
         "report": [r.as_json() for r in reports]}
    )  # fmt: skip


# --- tracking webhook -----------------------------------------------------------


@routes.post("/api/v1/tracking/webhook/{provider}")
@allow(PUBLIC)
async def tracking_webhook(request: web.Request) -> web.Response:
    """Signed with HMAC-SHA256 of the raw body: `X-Telemart-Signature: sha256=<hex>`."""
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
        raise ApiError(401, "bad_signature", f"missing or wrong {SIGNATURE_HEADER}")
    try:
        events = parse_payload(provider, json.loads(body))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_json", f"request body is not valid JSON: {exc}") from None
    except BadPayload as exc:
        raise api_error(exc) from None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        result = await ingest(conn, provider=provider, events=events, actor=f"webhook:{provider}")
    return web.json_response(result.as_json())


# --- returns --------------------------------------------------------------------


class ReturnBody(BaseModel):
    order_id: int = Field(gt=0)
    shipment_id: int | None = Field(default=None, gt=0)
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
    async with request.app[POOL].acquire() as conn:
        items, nxt = await list_returns(
            conn, status=request.query.get("status") or None,
            before_id=_int_param(request, "cursor", None, 2**62),
            limit=_int_param(request, "limit", 50, MAX_LIMIT) or 50,
        )  # fmt: skip
    return web.json_response(
        {"items": [r.as_json() for r in items], "next": str(nxt) if nxt else None}
    )


@routes.post("/api/v1/returns")
@allow("logistics", "supervisor", "agent")
async def returns_create(request: web.Request) -> web.Response:
    body = ReturnBody.model_validate(await read_json(request))
    user = current_user(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        try:
            ret = await request_return(
                conn, order_id=body.order_id, shipment_id=body.shipment_id, kind=body.kind,
                reason=body.reason, actor=user.username, note=body.note,
                lines=[x.model_dump() for x in body.lines] if body.lines else None,
                now=datetime.now(UTC),
            )  # fmt: skip
        except LogisticsError as exc:
            raise api_error(exc) from None
    return web.json_response(ret.as_json(), status=201)


@routes.post(r"/api/v1/returns/{id:\d+}/status")
@allow("logistics")
async def returns_status(request: web.Request) -> web.Response:
    body = ReturnStatusBody.model_validate(await read_json(request))
    user = current_user(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        try:
            ret = await set_return_status(
                conn, return_id=int(request.match_info["id"]), status=body.status,
                actor=user.username, pickup_carrier=body.pickup_carrier,
                pickup_tracking_number=body.pickup_tracking_number, note=body.note,
            )  # fmt: skip
        except LogisticsError as exc:
            raise api_error(exc) from None
    return web.json_response(ret.as_json())


