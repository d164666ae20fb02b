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


def build_spec(app: web.Application) -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if not path or not path.startswith("/api/v1") or route.method == "HEAD":
            continue
        handler = route.handler
        doc: ApiDoc | None = getattr(handler, "api_doc", None)
        roles = sorted(getattr(handler, "allowed_roles", ()))
        description = inspect.getdoc(handler) or ""
        op: dict[str, Any] = {
            "operationId": f"{route.method.lower()}_{handler.__name__}",
            "summary": (doc.summary if doc and doc.summary else description.split("\n")[0])
            or handler.__name__.replace("_", " "),
            "description": description
            + ("\n\nOpen to everyone." if PUBLIC in roles else f"\n\nRoles: {', '.join(roles)}."),
            "tags": list(doc.tags) if doc and doc.tags else [path.split("/")[3]],
            "responses": {
                "4XX": {
                    "description": "client error",
                    "content": {"application/json": {"schema": ERROR_REF}},
                }
            },
        }
        if PUBLIC not in roles:
            op["security"] = [{"bearer": []}, {"session": []}]
        params = [
            {"name": p.strip("{}").split(":")[0], "in": "path", "required": True,
             "schema": {"type": "string"}}
            for p in path.split("/") if p.startswith("{")
        ]  # fmt: skip
        inferred_body, inferred_query = _inferred_models(handler)
        query_model = doc.query if doc and doc.query else inferred_query
        body_model = doc.body if doc and doc.body else inferred_body
        if query_model is not None:
            params += _query_parameters(query_model)
        if params:
            op["parameters"] = params
        if body_model is not None and route.method in ("POST", "PUT", "PATCH"):
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(body_model, components)}},
            }
        ok: dict[str, Any] = {"description": "success"}
        if doc and doc.response:
            ok["content"] = {"application/json": {"schema": _schema(doc.response, components)}}
        op["responses"][str(doc.status if doc else 200)] = ok
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
            "POST /api/v1/auth/token and send it as `Authorization: Bearer <token>`.",
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
