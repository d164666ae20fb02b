"""What every request and response goes through besides auth: body limits, control
characters in paths and queries, and the security headers of every response."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import MultipartReader, hdrs, web

from server.errors import ApiError, Handler
from server.params import check_query

F = TypeVar("F", bound=Callable[..., Any])

# Bodies a route reads whole: JSON and forms. Routes that stream to disk (imports) or take
# bigger documents say so with @body_limit; anything public gets the small limit.
DEFAULT_BODY_BYTES = 1 << 20
PUBLIC_BODY_BYTES = 16 << 10


def body_limit(max_bytes: int) -> Callable[[F], F]:
    """The largest request body a handler accepts, in bytes (checked before reading)."""

    def mark(handler: F) -> F:
        handler.max_body_bytes = max_bytes  # type: ignore[attr-defined]
        return handler

    return mark


def limit_for(handler: Any) -> int:
    declared: int | None = getattr(handler, "max_body_bytes", None)
    if declared is not None:
        return declared
    roles = getattr(handler, "allowed_roles", None)
    if roles is not None and "public" in roles:
        return PUBLIC_BODY_BYTES
    return DEFAULT_BODY_BYTES


async def open_multipart(request: web.Request) -> MultipartReader:
    """The multipart reader; a malformed Content-Type (no boundary) is a 400."""
    try:
        return await request.multipart()
    except (KeyError, ValueError, AssertionError):
        raise ApiError(400, "bad_multipart", "multipart/form-data needs a boundary",
                       field="Content-Type") from None


def too_large(limit: int) -> ApiError:
    return ApiError(413, "body_too_large", f"the request body may have at most {limit} bytes",
                    field="body", max_bytes=limit)  # fmt: skip


@web.middleware
async def limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a body over the route's limit before reading it (Content-Length), cap what
    is read when the length is not given, and refuse control characters in the path and
    query string."""
    check_query(request)
    limit = limit_for(request.match_info.handler)
    length = request.content_length
    if length is not None and length > limit:
        raise too_large(limit)
    if request.body_exists and limit != request.client_max_size:
        request = request.clone(client_max_size=limit)
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        raise too_large(limit) from None


# --- security headers ------------------------------------------------------------------

def content_security_policy(request: web.BaseRequest) -> str:
    # No inline script anywhere (JSON data blocks are not scripts). Styles: the stylesheet
    # plus style attributes that Swagger UI sets. The websocket is the same host.
    host = request.host
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src 'self' ws://{host} wss://{host}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))  # fmt: skip


async def security_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """on_response_prepare: every response, errors and static files too."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), geolocation=(), microphone=()")
    content_type = headers.get(hdrs.CONTENT_TYPE, "")
    if content_type.startswith("text/html"):
        headers.setdefault("Content-Security-Policy", content_security_policy(request))
    if request.secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith(("/static/", "/static-swagger/")):
        # Pages and API answers carry customers' data: no copy in any cache.
        headers.setdefault("Cache-Control", "no-store")
