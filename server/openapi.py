"""The OpenAPI document for /api/v1, built from the routes and their pydantic models.

Every /api/v1 route appears with the roles it allows. Its request body and query
models are found in the handler itself (the pydantic model it validates with), or
given with `@api(...)`, which also names the response model.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp_jinja2
from aiohttp import web
from pydantic import BaseModel

from server.auth import PUBLIC, allow

F = TypeVar("F", bound=Callable[..., Any])
REF = "#/components/schemas/{model}"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
routes = web.RouteTableDef()


@dataclass(frozen=True, kw_only=True)
class ApiDoc:
    summary: str | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    tags: tuple[str, ...]


def api(
    summary: str | None = None,
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    tags: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Describe an API handler for the OpenAPI document."""

    def mark(handler: F) -> F:
        handler.api_doc = ApiDoc(  # type: ignore[attr-defined]
            summary=summary, body=body, query=query, response=response, status=status, tags=tags
        )
        return handler

    return mark


_VALIDATES = re.compile(r"(\w+)\.model_validate\((.{0,40})")


def _inferred_models(
    handler: Callable[..., Any],
) -> tuple[type[BaseModel] | None, type[BaseModel] | None]:
    """(body model, query model) the handler validates its input with, if any."""
    try:
        source = inspect.getsource(handler)
    except (OSError, TypeError):
        return None, None
    body = query = None
    namespace = getattr(handler, "__globals__", {})
    for name, argument in _VALIDATES.findall(source):
        model = namespace.get(name)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        if "query" in argument:
            query = query or model
        else:
            body = body or model
    return body, query


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "machine-readable code"},
        "message": {"type": "string"},
        "field": {"type": ["string", "null"], "description": "the field at fault, if any"},
    },
    "required": ["error", "message"],
}
INT64_MAX = 2**63 - 1
_ERROR_CONTENT = {"application/json": {"schema": ERROR_REF}}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
# Every operation may answer these (the middlewares: body limits, control characters,
# database out of reach); 401/403 when it is not public.
COMMON_ERRORS: dict[str, dict[str, Any]] = {
    "400": {"description": "malformed request (JSON, encoding)", "content": _ERROR_CONTENT},
    "404": {"description": "no such record", "content": _ERROR_CONTENT},
    "405": {"description": "method not allowed (see Allow)", "content": _ERROR_CONTENT},
    "409": {"description": "the record's state refuses it", "content": _ERROR_CONTENT},
    "413": {"description": "body over the route's limit", "content": _ERROR_CONTENT},
    "415": {"description": "body not application/json", "content": _ERROR_CONTENT},
    "422": {"description": "a field is invalid (see field)", "content": _ERROR_CONTENT},
    "429": {"description": "too many attempts", "content": _ERROR_CONTENT,
            "headers": _RETRY_AFTER},
    "503": {"description": "the database is out of reach", "content": _ERROR_CONTENT,
            "headers": _RETRY_AFTER},
}  # fmt: skip
AUTH_ERRORS: dict[str, dict[str, Any]] = {
    "401": {"description": "not logged in", "content": _ERROR_CONTENT},
    "403": {"description": "role, record or CSRF check refused", "content": _ERROR_CONTENT},
}
_INT = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}
_ID = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}
_TEXT = {"type": "string", "maxLength": 200}


def _q(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def _limit(high: int, default: int) -> dict[str, Any]:
    return _q("limit", {"type": "integer", "minimum": 1, "maximum": high, "default": default})


_CURSOR = _q("cursor", _INT, "the `next` of the previous page")
_TIME = {"type": "string", "format": "date-time"}
# Query parameters of handlers that read them one by one (server/params.py).
QUERY: dict[str, list[dict[str, Any]]] = {
    "list_orders": [
        _q("status", {"type": "string", "enum": ["placed", "paid", "preparing", "shipped",
                                                 "delivered", "cancelled", "expired"]}),
        _q("customer_id", _INT), _q("agent_id", _INT, "an agent may give only its own"),
        _q("from", _TIME), _q("until", _TIME), _limit(200, 50), _CURSOR,
    ],
    "search_products": [_q("q", _TEXT), _q("category", _TEXT), _limit(100, 20), _CURSOR],
    "shipments_index": [
        _q("status", _TEXT), _q("carrier", _TEXT), _q("q", _TEXT), _limit(200, 50), _CURSOR,
    ],
    "shipments_exceptions": [
        _q("stale_days", {"type": "integer", "minimum": 1, "maximum": 365, "default": 3}),
        _limit(1000, 100),
    ],
    "returns_index": [_q("status", _TEXT), _limit(200, 50), _CURSOR],
    "levels": [_q("low", {"type": "string", "enum": ["0", "1", "true", "false", "yes", "no"]}),
               _limit(500, 100), _CURSOR],
    "journeys": [_limit(200, 30)],
}  # fmt: skip
# Request headers beyond authentication.
HEADERS: dict[str, list[dict[str, Any]]] = {
    "create_order": [{
        "name": "Idempotency-Key", "in": "header", "required": True,
        "description": "the same key and body answer the first response again",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    }],
}  # fmt: skip
_UPLOAD = {
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"},
                       "source": {"type": "string", "maxLength": 200},
                       "kind": {"type": "string", "enum": ["national", "financial", "internal"]}},
    }},
}  # fmt: skip
# Bodies that are not a pydantic model's JSON.
BODIES: dict[str, dict[str, Any]] = {
    "import_customers": _UPLOAD,
    "import_dnc": _UPLOAD,
    "shipments_dispatch_csv": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {"schema": {
            "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
    },
    "tracking_webhook": {"application/json": {"schema": {"type": "object"}}},
}  # fmt: skip
# Answers that are not JSON.
CONTENT: dict[str, dict[str, Any]] = {
    "import_report": {"text/csv": {"schema": {"type": "string"}}},
}
WEBSOCKETS = ("agent_socket", "echo_socket")
_STATUS = re.compile(r"status=(\d{3})\b")


def _success_statuses(handler: Callable[..., Any], doc: ApiDoc | None) -> list[str]:
    """The 2xx statuses the handler answers: `@api(status=)`, else those in its source."""
    if doc is not None and doc.status != 200:
        return [str(doc.status)]
    try:
        source = inspect.getsource(handler)
    except (OSError, TypeError):
        return ["200"]
    found = sorted({m for m in _STATUS.findall(source) if m.startswith("2")})
    if "if added else 200" in source or "json_response(order_json(order))" in source:
        found = sorted({*found, "200"})
    return found or ["200"]


def build_spec(app: web.Application) -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if not path or not path.startswith("/api/v1") or route.method == "HEAD":
            continue
        handler = route.handler
        name = handler.__name__
        doc: ApiDoc | None = getattr(handler, "api_doc", None)
        roles = sorted(getattr(handler, "allowed_roles", ()))
        description = inspect.getdoc(handler) or ""
        public = PUBLIC in roles
        responses: dict[str, Any] = dict(COMMON_ERRORS)
        if not public:
            responses |= AUTH_ERRORS
        elif name == "create_token":
            responses["401"] = {"description": "wrong username or password",
                                "content": _ERROR_CONTENT}  # fmt: skip
        elif name == "tracking_webhook":
            responses["401"] = {"description": "missing, wrong or expired signature",
                                "content": _ERROR_CONTENT}  # fmt: skip
            responses["403"] = {"description": "no secret for that provider",
                                "content": _ERROR_CONTENT}  # fmt: skip
        op: dict[str, Any] = {
            "operationId": f"{route.method.lower()}_{name}",
            "summary": (doc.summary if doc and doc.summary else description.split("\n")[0])
            or name.replace("_", " "),
            "description": description
            + ("\n\nOpen to everyone." if public else f"\n\nRoles: {', '.join(roles)}."),
            "tags": list(doc.tags) if doc and doc.tags else [path.split("/")[3]],
            "responses": responses,
        }
        if not public:
            op["security"] = [{"bearer": []}, {"session": []}]
        params: list[dict[str, Any]] = []
        for part in path.split("/"):
            if not part.startswith("{"):
                continue
            pname, _, pattern = part.strip("{}").partition(":")
            schema = dict(_ID) if pattern else {"type": "string", "maxLength": 100}
            params.append({"name": pname, "in": "path", "required": True, "schema": schema})
        inferred_body, inferred_query = _inferred_models(handler)
        query_model = doc.query if doc and doc.query else inferred_query
        body_model = doc.body if doc and doc.body else inferred_body
        if query_model is not None:
            params += _query_parameters(query_model)
        params += QUERY.get(name, []) + HEADERS.get(name, [])
        if params:
            op["parameters"] = params
        if name in BODIES:
            op["requestBody"] = {"required": True, "content": BODIES[name]}
        elif body_model is not None and route.method in ("POST", "PUT", "PATCH"):
            op["requestBody"] = {
                "required": name not in ("cancel_order",),
                "content": {"application/json": {"schema": _schema(body_model, components)}},
            }
        success = _success_statuses(handler, doc)
        if name in WEBSOCKETS:
            op["description"] += (
                "\n\nA websocket: open it with `Upgrade: websocket` (and, with the session "
                "cookie, an Origin of this site). JSON messages both ways: "
                "docs/live-dialer.md. A plain GET is refused with 400."
            )
            responses["101"] = {"description": "switching to the websocket protocol"}
            success = []
        for status in success:
            ok: dict[str, Any] = {"description": "success"}
            if name in CONTENT:
                ok["content"] = CONTENT[name]
            elif doc and doc.response:
                ok["content"] = {
                    "application/json": {"schema": _schema(doc.response, components)}}
            else:
                ok["content"] = {"application/json": {"schema": {}}}
            responses[status] = ok
        if name == "create_order":
            responses["200"] = {"description": "the first answer to this Idempotency-Key, "
                                "replayed (Idempotent-Replayed: true)",
                                "content": {"application/json": {"schema": {}}}}  # fmt: skip
        clean_path = "/".join(
            "{" + p.strip("{}").split(":")[0] + "}" if p.startswith("{") else p
            for p in path.split("/")
        )
        paths.setdefault(clean_path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Telemart API",
            "version": "1",
            "description": "Outbound telemarketing and home-shopping orders. Get a token with "
            "POST /api/v1/auth/token and send it as `Authorization: Bearer <token>`. Pages "
            "that use the session cookie send X-CSRF-Token on writes (docs/security.md).",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "telemart_session"},
            },
        },
    }


@routes.get("/api/v1/openapi.json")
@allow(PUBLIC)
async def openapi_json(request: web.Request) -> web.Response:
    """This document."""
    return web.json_response(build_spec(request.app))


@routes.get("/api/docs")
@allow(PUBLIC)
@aiohttp_jinja2.template("api_docs.html")
async def api_docs(request: web.Request) -> dict[str, Any]:
    return {}


def swagger_ui_dir() -> Path | None:
    """Swagger UI's files from the swagger-ui-bundle wheel (no CDN)."""
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)
