"""API errors as JSON: {"error": code, "message": ..., "field": ...}."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """A request failed in a way the client can act on."""

    def __init__(
        self, status: int, code: str, message: str, *, field: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "field": self.field, **self.extra}


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


async def read_json(request: web.Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "bad_json", f"request body is not valid JSON: {exc}") from exc


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn domain and HTTP errors on /api/ into the JSON error shape."""
    is_api = request.path.startswith("/api/")
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response(exc.body(), status=exc.status)
    except ValidationError as exc:
        err = validation_error(exc)
        return web.json_response(err.body(), status=err.status)
    except web.HTTPException as exc:
        if not is_api or exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        return error_response(exc.status, code, exc.text or exc.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not is_api:
            raise
        return error_response(500, "internal", "internal server error")
