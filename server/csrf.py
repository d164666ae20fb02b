"""Cross-site request forgery: a cookie-authenticated write must come from our own pages.

A write (POST, PUT, PATCH, DELETE) that the session cookie authenticates needs both
- an `Origin` (or, failing that, `Referer`) of this server's own host (or one of the
  `allowed_origins` setting), so a page on another site or another port is refused, and
- the session's token in `X-CSRF-Token` (or a `csrf_token` form field): an HMAC of the
  session cookie, which a page elsewhere cannot read. Pages carry it in
  `<meta name="csrf-token">`; /static/csrf.js adds the header to same-origin fetch and XHR
  writes and the field to post forms.
A websocket opened with the session cookie needs a same-origin `Origin`. Public form posts
(login, logout) need a same-origin `Origin` when the browser sends one. Bearer-token
callers are not affected: a browser never adds that header by itself. JSON routes also
take `application/json` only (server/errors.py), which a cross-site form cannot send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from aiohttp import hdrs, web
from yarl import URL

from server.auth import AUTH_VIA, PUBLIC, SESSION_COOKIE
from server.errors import ApiError, Handler
from server.keys import SETTINGS

HEADER = "X-CSRF-Token"
FORM_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def token_for(session: str) -> str:
    """The CSRF token of a session (derived: nothing to store)."""
    digest = hmac.new(session.encode(), b"telemart csrf v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _origin_of(value: str) -> str | None:
    try:
        url = URL(value)
    except ValueError:
        return None
    if not url.host or url.scheme not in ("http", "https"):
        return None
    return f"{url.scheme}://{url.raw_authority}".lower()


def same_origin(request: web.Request) -> bool | None:
    """True/False when the browser said where the request comes from, None if it did not."""
    claimed = request.headers.get(hdrs.ORIGIN) or request.headers.get(hdrs.REFERER)
    if not claimed:
        return None
    origin = _origin_of(claimed)
    if origin is None:  # "null" (sandboxed frames, file:) and other oddities
        return False
    allowed = {o.rstrip("/").lower() for o in request.app[SETTINGS].allowed_origins}
    if origin in allowed:
        return True
    # Our own host as the browser addressed it; behind a TLS proxy the scheme differs, the
    # host and port do not.
    return origin.split("://", 1)[1] == (request.host or "").lower()


def _refuse(message: str) -> ApiError:
    return ApiError(403, "csrf", message)


async def _token_sent(request: web.Request) -> str | None:
    sent = request.headers.get(HEADER)
    if sent is None and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()  # cached: the handler reads it again
        value = form.get(FORM_FIELD)
        sent = value if isinstance(value, str) else None
    return sent


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    via = request.get(AUTH_VIA)
    route = request.match_info.handler
    public = PUBLIC in getattr(route, "allowed_roles", ())
    if request.method in UNSAFE:
        if public:
            if same_origin(request) is False:
                raise _refuse("a form on another site may not post here")
        elif via == "session":
            if not same_origin(request):
                raise _refuse("a write with the session cookie must come from this site's pages")
            sent = await _token_sent(request)
            expected = token_for(request.cookies[SESSION_COOKIE])
            if sent is None or not hmac.compare_digest(sent, expected):
                raise _refuse(f"send the page's token as {HEADER} (meta name=csrf-token)")
    elif via == "session" and request.headers.get(hdrs.UPGRADE, "").lower() == "websocket":
        if not same_origin(request):
            raise _refuse("a websocket with the session cookie must come from this site's pages")
    return await handler(request)


async def csrf_context(request: web.Request) -> dict[str, Any]:
    """Jinja context: `csrf_token` for the meta tag and forms (empty when logged out)."""
    session = request.cookies.get(SESSION_COOKIE)
    return {"csrf_token": token_for(session) if session else ""}
