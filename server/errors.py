"""API errors as JSON: {"error": code, "message": ..., "field": ...}.

One table (`DOMAIN_ERRORS`) says which HTTP status each domain's exceptions become; the error
middleware applies it, so views raise or let through domain errors and never map them
themselves. The database being out of reach is a 503 with `Retry-After`, never a 500.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import ValidationError

from config.errors import DatabaseUnavailable
from crm.errors import (
    CrmError,
    CustomerNotFound,
    ImportFailed,
    InvalidPhone,
    SegmentFilterError,
    SegmentNotFound,
)
from dialer.errors import (
    CampaignClosed,
    CampaignNotFound,
    CampaignNotReady,
    ComplianceSettingsError,
    DialerError,
    IllegalTransition,
    UnknownStrategy,
)
from logistics.carriers import BadTrackingNumber, UnknownCarrier
from logistics.errors import (
    InsufficientStock,
    InvalidQuantity,
    LogisticsError,
    NotStockable,
    UnknownSku,
    UnknownWarehouse,
)
from logistics.returns import ReturnNotFound, WindowClosed
from logistics.shipments import BadLines, ShipmentConflict, ShipmentNotFound
from logistics.shipments_csv import BadCsv
from logistics.tracking import BadPayload
from orders.errors import (
    CatalogConflict,
    InvalidTransition,
    OrderNotFound,
    OrdersError,
    OutOfStock,
    ProductNotFound,
    RequestInProgress,
)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RETRY_AFTER_S = 1  # what a client is told to wait when the database is out of reach
INT64_MAX = 2**63 - 1
# C0 controls but tab, line feed and carriage return; DEL. Refused in any text we are sent.
_CONTROL = frozenset(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
_CONTROL_TABLE = {ord(c): None for c in _CONTROL}
MAX_JSON_DEPTH = 32


class ApiError(Exception):
    """A request failed in a way the client can act on."""

    def __init__(
        self, status: int, code: str, message: str, *, field: str | None = None,
        headers: dict[str, str] | None = None, **extra: Any,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "field": self.field, **self.extra}

    def response(self) -> web.Response:
        return web.json_response(self.body(), status=self.status, headers=self.headers)


@dataclass(frozen=True, kw_only=True)
class Mapping:
    """How one domain exception reads over HTTP. `code` None: the exception's own `code`
    attribute (orders errors carry one), else "invalid". `field` None: its `field` attribute."""

    status: int
    code: str | None = None
    field: str | None = None


# The one table: domain exception -> HTTP. The most specific class found in an exception's
# MRO wins, so each root exception is the default of its domain.
DOMAIN_ERRORS: dict[type[Exception], Mapping] = {
    # crm
    CrmError: Mapping(status=422),
    SegmentFilterError: Mapping(status=422, code="invalid"),
    SegmentNotFound: Mapping(status=404, code="not_found"),
    CustomerNotFound: Mapping(status=404, code="not_found"),
    ImportFailed: Mapping(status=422, code="unreadable_file", field="file"),
    InvalidPhone: Mapping(status=422, code="invalid_phone", field="phone"),
    # dialer
    DialerError: Mapping(status=409, code="refused"),
    CampaignNotFound: Mapping(status=404, code="not_found"),
    IllegalTransition: Mapping(status=409, code="illegal_transition"),
    CampaignNotReady: Mapping(status=409, code="not_ready"),
    CampaignClosed: Mapping(status=409, code="closed"),
    ComplianceSettingsError: Mapping(status=422, code="invalid"),
    UnknownStrategy: Mapping(status=422, code="invalid", field="pacing_strategy"),
    # orders (each error names its own code and field)
    OrdersError: Mapping(status=422),
    OutOfStock: Mapping(status=409),
    RequestInProgress: Mapping(status=409),
    InvalidTransition: Mapping(status=409),
    CatalogConflict: Mapping(status=409),
    OrderNotFound: Mapping(status=404),
    ProductNotFound: Mapping(status=404),
    # logistics
    LogisticsError: Mapping(status=409, code="refused"),
    ShipmentNotFound: Mapping(status=404, code="not_found"),
    ReturnNotFound: Mapping(status=404, code="not_found"),
    WindowClosed: Mapping(status=422, code="cancellation_window_closed", field="order_id"),
    UnknownCarrier: Mapping(status=422, code="unknown_carrier", field="carrier"),
    BadTrackingNumber: Mapping(status=422, code="bad_tracking_number", field="tracking_number"),
    BadLines: Mapping(status=422, code="bad_lines", field="lines"),
    BadCsv: Mapping(status=422, code="bad_payload"),
    BadPayload: Mapping(status=422, code="bad_payload"),
    ShipmentConflict: Mapping(status=409, code="conflict"),
    InsufficientStock: Mapping(status=409, code="insufficient_stock"),
    UnknownSku: Mapping(status=422, code="invalid"),
    NotStockable: Mapping(status=422, code="invalid"),
    UnknownWarehouse: Mapping(status=422, code="invalid"),
    InvalidQuantity: Mapping(status=422, code="invalid"),
}


def domain_error(exc: BaseException) -> ApiError | None:
    """The API error a domain exception stands for, or None if the table does not know it."""
    for cls in type(exc).__mro__:
        found = DOMAIN_ERRORS.get(cls)
        if found is None:
            continue
        code = found.code or getattr(exc, "code", None) or "invalid"
        field = found.field or getattr(exc, "field", None) or getattr(exc, "path", None)
        extra: dict[str, Any] = dict(getattr(exc, "extra", None) or {})
        if isinstance(exc, WindowClosed):
            extra["deadline"] = exc.deadline.isoformat()
        return ApiError(found.status, code, str(exc), field=field, **extra)
    return None


# The database cannot be reached (down, starting up, refusing connections, a dead socket,
# the pool gave no connection in time): the client should retry shortly.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    DatabaseUnavailable,
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)


def unavailable() -> ApiError:
    return ApiError(
        503, "unavailable", "the database is out of reach; retry shortly",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )  # fmt: skip


def error_response(
    status: int, code: str, message: str, *, field: str | None = None, **extra: Any
) -> web.Response:
    return web.json_response(
        {"error": code, "message": message, "field": field, **extra}, status=status
    )


def validation_error(exc: ValidationError) -> ApiError:
    """The first pydantic error, with the path to the field that failed."""
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first.get("loc", ()))
    return ApiError(422, "invalid", f"{path or 'body'}: {first['msg']}", field=path or None)


# --- what a request may contain ---------------------------------------------------------


def has_control(text: str) -> bool:
    """True if `text` holds a NUL or another control character we refuse."""
    return len(text.translate(_CONTROL_TABLE)) != len(text)


def check_text(value: str, field: str) -> str:
    if has_control(value):
        raise ApiError(422, "invalid", f"{field}: control characters are not allowed",
                       field=field)  # fmt: skip
    return value


def check_json(value: Any, path: str = "", depth: int = 0) -> None:
    """Refuse what no route accepts anywhere in a JSON document: control characters in
    text, whole numbers beyond 64 bits, numbers that are not finite, nesting too deep."""
    if depth > MAX_JSON_DEPTH:
        raise ApiError(422, "invalid", f"{path or 'body'}: nested too deeply", field=path or None)
    if isinstance(value, str):
        check_text(value, path or "body")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise ApiError(422, "invalid", f"{path or 'body'}: number out of range",
                           field=path or None)  # fmt: skip
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ApiError(422, "invalid", f"{path or 'body'}: not a finite number",
                           field=path or None)  # fmt: skip
    elif isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            check_text(key, sub)
            check_json(item, sub, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_json(item, f"{path}.{i}" if path else str(i), depth + 1)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_json(request: web.Request) -> Any:
    """The request's JSON body: `Content-Type: application/json` only (a form or text/plain
    body is refused, which also stops cross-site forms), checked with `check_json`."""
    if request.content_type != "application/json" and not request.content_type.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json",
                       field="Content-Type")  # fmt: skip
    text = (await request.read()).decode("utf-8", errors="strict") if request.body_exists else ""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
        detail = str(exc) if not isinstance(exc, RecursionError) else "nested too deeply"
        raise ApiError(400, "bad_json", f"request body is not valid JSON: {detail}") from None
    check_json(value)
    return value


# --- the middleware ---------------------------------------------------------------------


def _is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn domain and HTTP errors on /api/ into the JSON error shape; a database out of
    reach into 503 + Retry-After on every route."""
    is_api = _is_api(request)
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except ValidationError as exc:
        return validation_error(exc).response()
    except web.HTTPException as exc:
        if not is_api or exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return web.json_response(
            {"error": code, "message": exc.text or exc.reason, "field": None},
            status=exc.status, headers=headers,
        )  # fmt: skip
    except UnicodeDecodeError:
        return ApiError(400, "bad_encoding", "the request is not valid UTF-8").response()
    except HttpProcessingError as exc:  # a malformed multipart part, a bad header in it
        return ApiError(400, "bad_request", f"malformed request: {exc.message}"[:200]).response()
    except asyncpg.DataError as exc:
        # A value the database cannot take (a number out of range, a malformed one) that
        # got past the checks above: the client's mistake, but say which check we lacked.
        log.warning("database refused a value on %s %s: %s", request.method, request.path, exc)
        return ApiError(422, "invalid", "a value is out of range or malformed").response()
    except UNAVAILABLE as exc:
        log.warning("database out of reach on %s %s: %s", request.method, request.path,
                    type(exc).__name__)  # fmt: skip
        return unavailable().response()
    except Exception as exc:
        mapped = domain_error(exc)
        if mapped is not None:
            return mapped.response()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not is_api:
            raise
        return error_response(500, "internal", "internal server error")
