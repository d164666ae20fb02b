"""Orders and catalog API: idempotent order capture, lifecycle, catalog for the order form."""

from __future__ import annotations

import weakref
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from orders import catalog, idempotency, lifecycle, reads
from orders.batcher import ReservationBatcher
from orders.errors import AlreadyAnswered
from orders.models import (
    IdempotencyRef,
    LineRequest,
    OrderRequest,
    OrderStatus,
    PaymentMethod,
    order_json,
)
from orders.schemas import ProductIn
from server.access import audit_read, check_order, orders_scope
from server.auth import Role, allow, current_user
from server.errors import ApiError, read_json
from server.keys import POOL
from server.params import Id, path_id, query_int, query_text, query_time

routes = web.RouteTableDef()

MAX_LINE_QTY = 99  # units of one SKU per order line
MAX_KEY_LENGTH = 200
DEFAULT_DEPOSIT_DAYS = 3
MAX_DEPOSIT_DAYS = 14
# One batcher per application (per process): orders of this process share transactions.
_batchers: weakref.WeakKeyDictionary[web.Application, ReservationBatcher] = (
    weakref.WeakKeyDictionary()
)


def batcher_for(app: web.Application) -> ReservationBatcher:
    found = _batchers.get(app)
    if found is None:
        found = _batchers[app] = ReservationBatcher(app[POOL])
    return found


# --- request models -----------------------------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LineIn(Strict):
    sku_id: Id
    qty: int = Field(gt=0, le=MAX_LINE_QTY)


class DeliveryIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=8, max_length=20, pattern=r"^\+?[0-9-]+$")
    address: str = Field(min_length=1, max_length=300)
    postal_code: str = Field(pattern=r"^[0-9]{5}$", description="5-digit Korean postal code")


class CardIn(Strict):
    method: Literal["card"]
    installment_months: int = Field(default=0, ge=0, le=36, description="0 = lump sum")
    approval_code: str | None = Field(default=None, max_length=64)


class VirtualAccountIn(Strict):
    method: Literal["virtual_account"]
    deposit_deadline: AwareDatetime | None = None  # default: in 3 days
    bank: str | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _deadline_ahead(self) -> VirtualAccountIn:
        now = datetime.now(UTC)
        if self.deposit_deadline is not None and not (
            now < self.deposit_deadline <= now + timedelta(days=MAX_DEPOSIT_DAYS)
        ):
            raise ValueError(f"deposit_deadline must be within {MAX_DEPOSIT_DAYS} days from now")
        return self


class CodIn(Strict):
    method: Literal["cod"]


class MobileIn(Strict):
    method: Literal["mobile"]
    carrier: str | None = Field(default=None, max_length=20)


Payment = Annotated[CardIn | VirtualAccountIn | CodIn | MobileIn, Field(discriminator="method")]


class OrderIn(Strict):
    customer_id: Id
    lines: list[LineIn] = Field(min_length=1, max_length=50)
    delivery: DeliveryIn
    payment: Payment
    attempt_id: Id | None = Field(default=None, description="the call attempt it came from")


class CancelLineIn(Strict):
    line_id: Id
    qty: int = Field(gt=0, le=1_000_000)


class CancelIn(Strict):
    lines: list[CancelLineIn] | None = Field(default=None, min_length=1)
    reason: str | None = Field(default=None, max_length=500)


class StatusIn(Strict):
    status: Literal["preparing", "shipped", "delivered"]


def to_request(
    body: OrderIn, *, user_id: int, actor: str, key: str, digest: str = ""
) -> OrderRequest:
    payment = body.payment.model_dump(mode="json", exclude={"method"}, exclude_none=True)
    deadline = None
    if isinstance(body.payment, VirtualAccountIn):
        deadline = body.payment.deposit_deadline or (
            datetime.now(UTC) + timedelta(days=DEFAULT_DEPOSIT_DAYS)
        )
        payment["deposit_deadline"] = deadline.isoformat()
    return OrderRequest(
        customer_id=body.customer_id,
        lines=tuple(LineRequest(sku_id=ln.sku_id, qty=ln.qty) for ln in body.lines),
        delivery=body.delivery.model_dump(),
        payment_method=PaymentMethod(body.payment.method),
        payment=payment,
        pay_deadline=deadline,
        attempt_id=body.attempt_id,
        agent_id=user_id,
        actor=actor,
        idempotency=IdempotencyRef(user_id=user_id, key=key, request_hash=digest),
    )


# --- orders ---------------------------------------------------------------------------


@routes.post("/api/v1/orders")
@allow("agent", "supervisor")
async def create_order(request: web.Request) -> web.Response:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            400,
            "idempotency_key_required",
            f"send an Idempotency-Key header (1-{MAX_KEY_LENGTH} characters)",
            field="Idempotency-Key",
        )
    raw = await read_json(request)
    body = OrderIn.model_validate(raw)
    user = current_user(request)
    order_request = to_request(
        body, user_id=user.id, actor=user.username, key=key, digest=idempotency.request_hash(raw)
    )
    # The key is claimed, answered or released in the order's own transaction.
    try:
        order = await batcher_for(request.app).submit(order_request)
    except AlreadyAnswered as exc:
        return web.json_response(
            exc.body, status=exc.status, headers={"Idempotent-Replayed": "true"}
        )
    return web.json_response(order_json(order), status=201)


@routes.get("/api/v1/orders")
@allow("agent", "supervisor", "logistics", "marketer")
async def list_orders(request: web.Request) -> web.Response:
    query = request.query
    try:
        status = OrderStatus(query["status"]) if query.get("status") else None
    except ValueError:
        raise ApiError(
            422, "invalid", f"unknown status {query['status']!r}", field="status"
        ) from None
    user = current_user(request)
    where = reads.OrderFilter(
        status=status,
        customer_id=query_int(request, "customer_id"),
        agent_id=orders_scope(user, query_int(request, "agent_id")),
        placed_from=query_time(request, "from"),
        placed_until=query_time(request, "until"),
    )
    limit = query_int(request, "limit", default=50, low=1, high=200) or 50
    cursor = query_int(request, "cursor", default=0) or 0
    async with request.app[POOL].acquire() as conn:
        page = await reads.list_orders(conn, where=where, before_id=cursor, limit=limit)
        await audit_read(conn, user, "orders", [o.id for o in page])
    nxt = str(page[-1].id) if len(page) == limit else None
    return web.json_response({"items": [order_json(o) for o in page], "next": nxt})


@routes.get("/api/v1/orders/{id:[0-9]+}")
@allow("agent", "supervisor", "logistics", "marketer")
async def get_order(request: web.Request) -> web.Response:
    order_id = path_id(request)
    async with request.app[POOL].acquire() as conn:
        order = await reads.get_order(conn, order_id=order_id)
        check_order(current_user(request), order_id, order.agent_id)
        events = await reads.order_events(conn, order_id=order_id)
        await audit_read(conn, current_user(request), "order", [order_id])
    return web.json_response(order_json(order, events))


@routes.post("/api/v1/orders/{id:[0-9]+}/pay")
@allow("supervisor")
async def pay_order(request: web.Request) -> web.Response:
    """Confirm a virtual-account deposit."""
    user = current_user(request)
    return await _change(
        request, lambda conn, oid: lifecycle.pay(conn, order_id=oid, actor=user.username)
    )


@routes.post("/api/v1/orders/{id:[0-9]+}/cancel")
@allow("agent", "supervisor")
async def cancel_order(request: web.Request) -> web.Response:
    body = CancelIn.model_validate(await read_json(request) if request.can_read_body else {})
    user = current_user(request)
    lines = None
    if body.lines is not None:
        lines = {}
        for i, ln in enumerate(body.lines):
            if ln.line_id in lines:
                raise ApiError(422, "invalid", "a line appears twice", field=f"lines.{i}.line_id")
            lines[ln.line_id] = ln.qty
    return await _change(
        request,
        lambda conn, oid: lifecycle.cancel(
            conn, order_id=oid, actor=user.username, lines=lines, reason=body.reason
        ),
    )


@routes.post("/api/v1/orders/{id:[0-9]+}/status")
@allow("logistics", "supervisor")
async def set_status(request: web.Request) -> web.Response:
    body = StatusIn.model_validate(await read_json(request))
    actor = current_user(request).username
    step = {
        "preparing": lifecycle.mark_preparing,
        "shipped": lifecycle.mark_shipped,
        "delivered": lifecycle.mark_delivered,
    }[body.status]
    return await _change(request, lambda conn, oid: step(conn, order_id=oid, actor=actor))


async def _change(request: web.Request, action: Any) -> web.Response:
    order_id = path_id(request)
    user = current_user(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if user.role is Role.AGENT:
            placed = await reads.get_order(conn, order_id=order_id)
            check_order(user, order_id, placed.agent_id)
        order = await action(conn, order_id)
    return web.json_response(order_json(order))


# --- catalog ------------------------------------------------------------------------


@routes.get("/api/v1/catalog/products")
@allow("agent", "supervisor", "marketer", "logistics")
async def search_products(request: web.Request) -> web.Response:
    limit = query_int(request, "limit", default=20, low=1, high=100) or 20
    cursor = query_int(request, "cursor", default=0) or 0
    async with request.app[POOL].acquire() as conn:
        page = await catalog.search_products(
            conn,
            q=query_text(request, "q"),
            category=query_text(request, "category"),
            after_id=cursor,
            limit=limit,
        )
    nxt = str(page[-1].id) if len(page) == limit else None
    return web.json_response({"items": [catalog.product_json(p) for p in page], "next": nxt})


@routes.get("/api/v1/catalog/products/{id:[0-9]+}")
@allow("agent", "supervisor", "marketer", "logistics")
async def get_product(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        product = await catalog.get_product(conn, product_id=path_id(request))
    return web.json_response(catalog.product_json(product))


@routes.post("/api/v1/catalog/products")
@allow("supervisor")
async def create_product(request: web.Request) -> web.Response:
    body = ProductIn.model_validate(await read_json(request))
    async with request.app[POOL].acquire() as conn, conn.transaction():
        product = await catalog.create_product(conn, spec=body.spec())
    return web.json_response(catalog.product_json(product), status=201)
