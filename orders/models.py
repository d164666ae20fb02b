"""Records and states of the orders domain, and their JSON shape."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class OrderStatus(enum.StrEnum):
    PLACED = "placed"
    PAID = "paid"
    PREPARING = "preparing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# Statuses in which the order still holds reserved stock.
OPEN_STATUSES = frozenset({OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PREPARING})


class PaymentMethod(enum.StrEnum):
    CARD = "card"
    VIRTUAL_ACCOUNT = "virtual_account"
    COD = "cod"
    MOBILE = "mobile"


# Paid when the order is captured (approval happens before, outside any lock).
PAID_AT_CAPTURE = frozenset({PaymentMethod.CARD, PaymentMethod.MOBILE})


@dataclass(frozen=True, kw_only=True)
class LineRequest:
    sku_id: int
    qty: int


@dataclass(frozen=True, kw_only=True)
class IdempotencyRef:
    user_id: int
    key: str
    request_hash: str = ""  # of the request body: a reused key must carry the same body


@dataclass(frozen=True, kw_only=True)
class OrderRequest:
    customer_id: int
    lines: tuple[LineRequest, ...]
    delivery: dict[str, Any]
    payment_method: PaymentMethod
    payment: dict[str, Any] = field(default_factory=dict)
    pay_deadline: datetime | None = None
    attempt_id: int | None = None
    agent_id: int | None = None
    actor: str = "system"
    idempotency: IdempotencyRef | None = None


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    id: int
    sku_id: int
    sku_code: str
    qty: int
    cancelled_qty: int
    unit_price_krw: int

    @property
    def open_qty(self) -> int:
        return self.qty - self.cancelled_qty


@dataclass(frozen=True, kw_only=True)
class Order:
    id: int
    customer_id: int
    status: OrderStatus
    total_krw: int
    payment_method: PaymentMethod
    payment: dict[str, Any]
    pay_deadline: datetime | None
    delivery: dict[str, Any]
    attempt_id: int | None
    agent_id: int | None
    placed_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, kw_only=True)
class OrderEvent:
    id: int
    at: datetime
    type: str
    actor: str | None
    details: dict[str, Any]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def order_json(order: Order, events: list[OrderEvent] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": order.id,
        "customer_id": order.customer_id,
        "status": order.status.value,
        "total_krw": order.total_krw,
        "payment_method": order.payment_method.value,
        "payment": order.payment,
        "pay_deadline": _iso(order.pay_deadline),
        "delivery": order.delivery,
        "attempt_id": order.attempt_id,
        "agent_id": order.agent_id,
        "placed_at": _iso(order.placed_at),
        "updated_at": _iso(order.updated_at),
        "paid_at": _iso(order.paid_at),
        "lines": [
            {
                "id": line.id,
                "sku_id": line.sku_id,
                "sku": line.sku_code,
                "qty": line.qty,
                "cancelled_qty": line.cancelled_qty,
                "unit_price_krw": line.unit_price_krw,
            }
            for line in order.lines
        ],
    }
    if events is not None:
        body["events"] = [
            {"id": e.id, "at": _iso(e.at), "type": e.type, "actor": e.actor, "details": e.details}
            for e in events
        ]
    return body
