"""Errors of the orders domain. Each carries the request field it is about, if any."""

from __future__ import annotations

from typing import Any


class OrdersError(Exception):
    """The order could not be processed."""

    field: str | None = None
    code: str = "invalid"

    def __init__(self, message: str | None = None, *, field: str | None = None, **extra: Any):
        super().__init__(message or self.__doc__ or "")
        if field is not None:
            self.field = field
        self.extra = extra

    @property
    def message(self) -> str:
        return str(self)


class InvalidOrder(OrdersError):
    """The order request is invalid."""


class UnknownCustomer(OrdersError):
    """No such customer."""

    field = "customer_id"


class UnknownSku(OrdersError):
    """No such SKU, or it is no longer sold."""


class LimitExceeded(OrdersError):
    """The quantity is over the per-customer purchase limit."""

    code = "limit_exceeded"


class OutOfStock(OrdersError):
    """Not enough stock for a line."""

    code = "out_of_stock"


class OrderNotFound(OrdersError):
    """No such order."""

    code = "not_found"


class InvalidTransition(OrdersError):
    """The order's status does not allow that."""

    code = "invalid_transition"


class CatalogConflict(OrdersError):
    """A product or SKU with that code exists already."""

    code = "conflict"


class ProductNotFound(OrdersError):
    """No such product."""

    code = "not_found"


class RequestInProgress(OrdersError):
    """A request with this Idempotency-Key is still running; retry shortly."""

    code = "request_in_progress"
    field = "Idempotency-Key"


class KeyReused(OrdersError):
    """This Idempotency-Key was used with a different request body."""

    code = "idempotency_key_reused"
    field = "Idempotency-Key"


class AlreadyAnswered(OrdersError):
    """This Idempotency-Key was answered before: replay the stored response."""

    code = "replayed"
    field = "Idempotency-Key"

    def __init__(self, *, status: int, body: object) -> None:
        super().__init__()
        self.status = status
        self.body = body
