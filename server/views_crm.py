"""CRM API: customer and do-not-call imports, customers, the internal do-not-call list."""

from __future__ import annotations

import csv
import itertools
import secrets
from pathlib import Path
from typing import IO, Any

from aiohttp import BodyPartReader, web
from pydantic import BaseModel, Field

from config.sql import load_queries
from crm import dnc
from crm.customers import MAX_PAGE, get_customer, list_customers
from crm.importer import import_file
from crm.parse import ImportKind
from crm.phones import normalize
from server.access import audit_read, check_customer
from server.auth import Role, allow, current_user
from server.errors import INT64_MAX, ApiError, check_text, read_json
from server.keys import POOL, SETTINGS
from server.middlewares import body_limit, open_multipart, too_large
from server.params import Text, path_id

routes = web.RouteTableDef()
IMPORT_Q = load_queries("crm", "import.sql")
# Report rows returned inline by the import endpoint; the whole report is a download.
INLINE_REPORT_ROWS = 100
UPLOAD_CHUNK_BYTES = 1 << 20
IMPORT_MAX_BYTES = 2 << 30  # an upload is streamed to disk; this bounds the disk it takes
FIELD_MAX_BYTES = 1000  # the form's other fields: source, kind


class CustomerQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: int | None = Field(default=None, ge=0, le=INT64_MAX)
    q: Text | None = Field(default=None, max_length=200)


class DncRequest(BaseModel):
    phone: str = Field(min_length=1, max_length=64)
    source: str = Field(default="api", min_length=1, max_length=200)


def _actor(request: web.Request) -> str:
    return f"user:{current_user(request).username}"


def _open_upload(folder: Path, suffix: str) -> tuple[Path, IO[bytes]]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"upload-{secrets.token_hex(8)}{suffix}"
    return path, path.open("wb")


def _read_report(path: Path, limit: int) -> tuple[list[dict[str, Any]], bool]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(itertools.islice(reader, limit + 1))
    items = [{"line": int(r["line"]), "reason": r["reason"], "value": r["value"]} for r in rows]
    return items[:limit], len(items) > limit


def _is_file(path: str) -> bool:
    return Path(path).is_file()


async def _save_upload(request: web.Request) -> tuple[Path, str, dict[str, str]]:
    """Stream the multipart `file` field to disk; other fields come back as text."""
    if not request.content_type.startswith("multipart/"):
        raise ApiError(415, "not_multipart", "send the file as multipart/form-data", field="file")
    reader = await open_multipart(request)
    fields: dict[str, str] = {}
    saved: tuple[Path, str] | None = None
    uploads = request.app[SETTINGS].home / "uploads"
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file" and saved is None:
            filename = check_text(Path(part.filename or "upload.csv").name, "file")[:200]
            path, fh = _open_upload(uploads, Path(filename).suffix[:10])
            size = 0
            with fh:
                while chunk := await part.read_chunk(UPLOAD_CHUNK_BYTES):
                    size += len(chunk)
                    if size > IMPORT_MAX_BYTES:
                        fh.close()
                        path.unlink(missing_ok=True)
                        raise too_large(IMPORT_MAX_BYTES)
                    fh.write(chunk)
            saved = (path, filename)
        elif part.name:
            value = b""
            while not part.at_eof():  # (a chunk may not be smaller than the boundary)
                value += await part.read_chunk(FIELD_MAX_BYTES)
                if len(value) > FIELD_MAX_BYTES:
                    raise ApiError(422, "invalid", f"{part.name}: too long", field=part.name)
            fields[part.name] = check_text(value.decode("utf-8", errors="replace"), part.name)
    if saved is None:
        raise ApiError(400, "no_file", "the form has no `file` field", field="file")
    return saved[0], saved[1], fields


async def _import(request: web.Request, kind: ImportKind) -> web.Response:
    path, filename, fields = await _save_upload(request)
    dnc_kind = fields.get("kind") or "national"
    if kind is ImportKind.DNC and dnc_kind not in dnc.DNC_KINDS:
        path.unlink(missing_ok=True)
        raise ApiError(422, "invalid", "kind: national, financial or internal", field="kind")
    settings = request.app[SETTINGS]
    try:
        pool = request.app[POOL]
        # Two connections: a customer import writes two batches at a time (crm/importer.py).
        async with pool.acquire() as conn, pool.acquire() as second:
            summary = await import_file(
                conn, path=path, kind=kind, source=fields.get("source") or filename,
                actor=_actor(request), report_dir=settings.home / "reports",
                dnc_kind=dnc_kind, filename=filename, second=second,
            )  # fmt: skip
    finally:
        path.unlink(missing_ok=True)
    error_rows, truncated = _read_report(Path(summary.error_report), INLINE_REPORT_ROWS)
    # No server paths in answers: the report is downloaded from error_report_url.
    body = {k: v for k, v in summary.as_json().items() if k != "error_report"} | {
        "run_id": summary.run_id,
        "error_report_url": f"/api/v1/imports/{summary.run_id}/report",
        "error_rows": error_rows,
        "error_rows_truncated": truncated,
    }
    return web.json_response(body)


@routes.post("/api/v1/imports/customers")
@allow(Role.MARKETER)
@body_limit(IMPORT_MAX_BYTES)
async def import_customers(request: web.Request) -> web.Response:
    """Import a customer CSV (multipart `file`, optional `source`)."""
    return await _import(request, ImportKind.CUSTOMERS)


@routes.post("/api/v1/imports/dnc")
@allow(Role.MARKETER)
@body_limit(IMPORT_MAX_BYTES)
async def import_dnc(request: web.Request) -> web.Response:
    """Import a do-not-call register (multipart `file`, optional `source` and `kind`)."""
    return await _import(request, ImportKind.DNC)


@routes.get("/api/v1/imports/{run_id:[0-9]+}/report")
@allow(Role.MARKETER)
async def import_report(request: web.Request) -> web.StreamResponse:
    """The error report CSV of an import run."""
    async with request.app[POOL].acquire() as conn:
        run = await conn.fetchrow(IMPORT_Q["import_run"], path_id(request, "run_id"))
    report = (run["summary"] or {}).get("error_report") if run else None
    if not report or not _is_file(report):
        raise ApiError(404, "not_found", "no report for that import")
    return web.FileResponse(
        report,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{Path(report).name}"',
        },
    )


@routes.get("/api/v1/customers")
@allow(Role.MARKETER, Role.SUPERVISOR)
async def customers(request: web.Request) -> web.Response:
    """Customers by id: `?limit=&cursor=&q=` (q: a phone in any form, digits, a name)."""
    query = CustomerQuery.model_validate(dict(request.query))
    async with request.app[POOL].acquire() as conn:
        page = await list_customers(conn, limit=query.limit, cursor=query.cursor, q=query.q)
        await audit_read(conn, current_user(request), "customers", [c.id for c in page.items],
                         q=query.q)  # fmt: skip
    return web.json_response({"items": [c.as_json() for c in page.items], "next": page.next})


@routes.get("/api/v1/customers/{customer_id:[0-9]+}")
@allow(Role.AGENT, Role.SUPERVISOR, Role.MARKETER)
async def customer(request: web.Request) -> web.Response:
    """One customer, with consent history and do-not-call status."""
    user = current_user(request)
    customer_id = path_id(request, "customer_id")
    async with request.app[POOL].acquire() as conn:
        await check_customer(conn, user, customer_id)
        found = await get_customer(conn, customer_id=customer_id)
        await audit_read(conn, user, "customer", [customer_id])
    return web.json_response(found)


@routes.post("/api/v1/dnc")
@allow(Role.AGENT, Role.SUPERVISOR, Role.MARKETER)
async def add_dnc(request: web.Request) -> web.Response:
    """Put a number on the internal do-not-call list: {"phone", "source"?}."""
    body = DncRequest.model_validate(await read_json(request))
    phone = normalize(body.phone)
    if phone is None:
        raise ApiError(422, "invalid_phone", f"not a valid phone number: {body.phone!r}",
                       field="phone")  # fmt: skip
    async with request.app[POOL].acquire() as conn, conn.transaction():
        added = await dnc.add_internal(
            conn, phone_e164=phone.e164, source=body.source, actor=_actor(request)
        )
    return web.json_response(
        {"phone_e164": phone.e164, "kind": "internal", "added": added},
        status=201 if added else 200,
    )
