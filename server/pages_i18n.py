"""The pages' language and formats on the web side: the template environment (Jinja2's
i18n extension, format filters), the language of each request, the language switch, the
page scripts' catalog, and the pages shown for 403 / 404 (in the user's language, with a
way back)."""

from __future__ import annotations

import contextlib
import logging
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from server import formats
from server.auth import PUBLIC, User, allow
from server.errors import RETRY_AFTER_S, UNAVAILABLE, ApiError, Handler
from server.i18n import (
    LANG_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGES,
    gettext,
    negotiate,
    ngettext,
    pgettext,
    script_catalog,
    set_language,
)
from server.keys import POOL, SETTINGS, USER

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
LANG_COOKIE_MAX_AGE_S = 365 * 24 * 3600
_USER_LANG = "SELECT lang FROM users WHERE id = $1"
_SET_USER_LANG = "UPDATE users SET lang = $2 WHERE id = $1"


def setup_templates(env: jinja2.Environment, *, site_tz: str) -> None:
    """Gettext for `_()` / `{% trans %}` (the current request's language) and the filters
    that format values as staff read them."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext
    )
    tz = formats.zone(site_tz)
    env.filters.update({
        "when": partial(formats.when, tz=tz),
        "when_s": partial(formats.when, tz=tz, seconds=True),
        "day": partial(formats.day, tz=tz), "last_day": partial(formats.last_day, tz=tz),
        "phone": formats.phone, "won": formats.won, "num": formats.number,
        "pct": formats.percent,
    })  # fmt: skip
    env.globals.update({"LANGUAGES": LANGUAGES, "LANGUAGE_NAMES": LANGUAGE_NAMES,
                        "site_tz": site_tz, "site_tz_label": formats.tz_label(tz)})  # fmt: skip


def _is_page(request: web.Request) -> bool:
    path = request.path
    return not path.startswith(
        ("/api/", "/static/", "/static-swagger/", "/i18n/", "/metrics", "/healthz")
    )


async def _user_language(request: web.Request, user: User) -> str | None:
    async with request.app[POOL].acquire() as conn:
        found: str | None = await conn.fetchval(_USER_LANG, user.id)
    return found


async def request_language(request: web.Request) -> str:
    """The user's own choice, else the cookie (login page), else Korean."""
    user = request.get(USER)
    chosen = await _user_language(request, user) if isinstance(user, User) else None
    return negotiate(chosen, request.cookies.get(LANG_COOKIE))


@web.middleware
async def locale_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Set the request's language; show 403 and 404 as pages on the pages' paths."""
    if not _is_page(request):
        # API answers and scripts: the cookie is enough (no database read per call).
        set_language(negotiate(request.cookies.get(LANG_COOKIE)))
        return await handler(request)
    set_language(await request_language(request))
    try:
        return await handler(request)
    except (web.HTTPForbidden, web.HTTPNotFound) as exc:
        if request.method != "GET":
            raise
        return await _error_page(request, exc.status)


async def _error_page(
    request: web.Request,
    status: int,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    user = request.get(USER)
    # The template context processors run innermost; a refusal from an outer middleware
    # (limits, auth, CSRF) comes before them, so they run here, in the language now set.
    context: dict[str, Any] = {}
    for processor in request.config_dict[aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY]:
        context.update(await processor(request))
    context.update(status=status, code=code, user=user if isinstance(user, User) else None,
                   **extra)  # fmt: skip
    response = aiohttp_jinja2.render_template("error.html", request, context, status=status)
    response.headers.update(headers or {})
    return response


@web.middleware
async def page_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refusals on the pages' paths (a cross-site form, a body too large, the database out
    of reach ...) as a page in the reader's language, not the API's English JSON.

    It runs before the user is known, so it starts from the language cookie; a refusal
    after login reads the user's own choice when the database answers."""
    if not _is_page(request):
        return await handler(request)
    set_language(negotiate(request.cookies.get(LANG_COOKIE)))
    try:
        return await handler(request)
    except ApiError as exc:
        if isinstance(request.get(USER), User):
            with contextlib.suppress(*UNAVAILABLE):
                set_language(await request_language(request))
        extra = {k: v for k, v in exc.extra.items() if k in ("max_bytes", "retry_after")}
        return await _error_page(request, exc.status, code=exc.code, headers=exc.headers, **extra)
    except web.HTTPClientError as exc:
        # A bad form post, a wrong method: a page with a way back, not aiohttp's bare text.
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return await _error_page(request, exc.status, headers=headers)
    except UNAVAILABLE as exc:
        log.warning("database out of reach on %s %s: %s", request.method, request.path,
                    type(exc).__name__)  # fmt: skip
        return await _error_page(request, 503, code="unavailable",
                           headers={"Retry-After": str(RETRY_AFTER_S)},
                           retry_after=RETRY_AFTER_S)  # fmt: skip


def _safe_back(target: str | None) -> str:
    # Only a local path: the switch must not become an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@routes.post("/language")
@allow("agent", "supervisor", "marketer", "logistics")  # pages: the login page may post it too
async def choose_language(request: web.Request) -> web.StreamResponse:
    """The language switch: remembered for the user (if logged in) and in a cookie."""
    form = await request.post()
    lang = str(form.get("lang", ""))
    if lang not in LANGUAGES:
        raise web.HTTPBadRequest(text="unknown language")
    referer = urlsplit(request.headers.get("Referer", "")).path
    back = _safe_back(str(form.get("next", "")) or referer)
    user = request.get(USER)
    if isinstance(user, User):
        async with request.app[POOL].acquire() as conn:
            await conn.execute(_SET_USER_LANG, user.id, lang)
    response = web.HTTPSeeOther(back)
    response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE_S, path="/",
                        samesite="Lax", httponly=True,
                        secure=request.app[SETTINGS].cookie_secure)  # fmt: skip
    raise response


@routes.get(r"/i18n/{lang:[a-z]{2}}.js")
@allow(PUBLIC)
async def catalog_script(request: web.Request) -> web.StreamResponse:
    """The page scripts' catalog of one language (cached; the page asks by version)."""
    lang = request.match_info["lang"]
    if lang not in LANGUAGES:
        raise web.HTTPNotFound()
    found = script_catalog(lang)
    if request.headers.get("If-None-Match") == f'"{found.etag}"':
        return web.Response(status=304)
    return web.Response(body=found.body, content_type="application/javascript", charset="utf-8",
                        headers={"ETag": f'"{found.etag}"',
                                 "Cache-Control": "public, max-age=3600"})  # fmt: skip


@routes.get("/favicon.ico")
@allow(PUBLIC)
async def favicon(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently("/static/favicon.svg")


def page_context(lang: str) -> dict[str, Any]:
    return {"lang": lang, "i18n_version": script_catalog(lang).etag}
