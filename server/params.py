"""Reading ids and numbers from paths and query strings: range-checked, ASCII digits only.

A bad value is a 422 naming the parameter (an id that is well formed but absent is the
route's own 404). Pydantic models at the edges use `Id` and `Text` for the same rules.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import AfterValidator, Field

from server.errors import INT64_MAX, ApiError, check_text, has_control

_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: int() would also read '٣' or fail on '³'
# Path segments of ids in routes: `{id:[0-9]+}` so that no other text reaches a handler.
ID = "[0-9]+"


def _whole(raw: str, name: str) -> int:
    if not _DIGITS.fullmatch(raw) or int(raw) > INT64_MAX:
        raise ApiError(422, "invalid", f"{name} must be a whole number from 0 to {INT64_MAX}",
                       field=name)  # fmt: skip
    return int(raw)


def path_id(request: web.Request, name: str = "id") -> int:
    """A positive 64-bit id from the path."""
    value = _whole(request.match_info[name], name)
    if value < 1:
        raise ApiError(422, "invalid", f"{name} must be 1 or more", field=name)
    return value


def query_int(
    request: web.Request, name: str, *, default: int | None = None, low: int = 0,
    high: int = INT64_MAX,
) -> int | None:  # fmt: skip
    """A whole number from the query string within [low, high], or `default` if absent."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    value = _whole(raw, name)
    if not low <= value <= high:
        raise ApiError(422, "invalid", f"{name} must be from {low} to {high}", field=name)
    return value


def query_text(request: web.Request, name: str, *, max_length: int = 200) -> str | None:
    """A text from the query string (None if absent or empty): no control characters."""
    raw = request.query.get(name)
    if not raw:
        return None
    if len(raw) > max_length:
        raise ApiError(422, "invalid", f"{name}: at most {max_length} characters", field=name)
    return check_text(raw, name)


def query_time(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, "invalid", f"{name} must be an ISO 8601 time", field=name) from None
    if value.tzinfo is None:
        raise ApiError(422, "invalid", f"{name} needs a time zone offset", field=name)
    return value


def check_query(request: web.Request) -> None:
    """Every query value and path segment free of control characters."""
    for key, value in request.query.items():
        check_text(key, key or "query")
        check_text(value, key or "query")
    for key, value in request.match_info.items():
        check_text(value, key)


def _no_control(value: str) -> str:
    if has_control(value):
        raise ValueError("control characters are not allowed")
    return value


# For pydantic models: a positive 64-bit id, and a text without control characters.
Id = Annotated[int, Field(gt=0, le=INT64_MAX)]
Text = Annotated[str, AfterValidator(_no_control)]


def openapi_id(name: str = "id") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": INT64_MAX}}  # fmt: skip
