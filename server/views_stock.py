"""Stock API: receipts, adjustments, levels with low-stock alerts, the ledger check."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from logistics import stock
from server.auth import allow, current_user
from server.errors import read_json
from server.keys import POOL
from server.params import Id, query_int

routes = web.RouteTableDef()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReceiptIn(Strict):
    sku: Id | Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="SKU id or code"
    )
    qty: int = Field(gt=0, le=1_000_000)
    warehouse: str | None = Field(default=None, max_length=64, description="code; default MAIN")
    reason: str | None = Field(default=None, max_length=500)


class AdjustmentIn(Strict):
    sku: Id | Annotated[str, Field(min_length=1, max_length=64)]
    delta: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(min_length=1, max_length=500)
    warehouse: str | None = Field(default=None, max_length=64)


def row_json(row: stock.StockRow, **extra: Any) -> dict[str, Any]:
    return {
        "stock_id": row.id,
        "sku_id": row.sku_id,
        "warehouse_id": row.warehouse_id,
        "on_hand": row.on_hand,
        "reserved": row.reserved,
        "available": row.available,
        "low_stock_threshold": row.low_stock_threshold,
        **extra,
    }


@routes.post("/api/v1/stock/receipts")
@allow("logistics")
async def receive(request: web.Request) -> web.Response:
    body = ReceiptIn.model_validate(await read_json(request))
    actor = current_user(request).username
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await stock.receive(
            conn, sku=body.sku, qty=body.qty, actor=actor, warehouse_code=body.warehouse,
            reason=body.reason,
        )  # fmt: skip
    return web.json_response(row_json(row), status=201)


@routes.post("/api/v1/stock/adjustments")
@allow("logistics")
async def adjust(request: web.Request) -> web.Response:
    body = AdjustmentIn.model_validate(await read_json(request))
    actor = current_user(request).username
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await stock.adjust(
            conn, sku=body.sku, delta=body.delta, reason=body.reason, actor=actor,
            warehouse_code=body.warehouse,
        )  # fmt: skip
    return web.json_response(row_json(row), status=201)


@routes.get("/api/v1/stock")
@allow("logistics", "supervisor", "agent")
async def levels(request: web.Request) -> web.Response:
    """Stock rows; `?low=1` lists only those at or under their low-stock threshold."""
    low = request.query.get("low", "0").lower() in ("1", "true", "yes")
    limit = query_int(request, "limit", default=100, low=1, high=500) or 100
    cursor = query_int(request, "cursor", default=0) or 0
    async with request.app[POOL].acquire() as conn:
        page = await stock.levels(conn, low_only=low, after_id=cursor, limit=limit)
    items = [
        row_json(lv.row, sku=lv.sku_code, warehouse=lv.warehouse_code, low=lv.low) for lv in page
    ]
    nxt = str(page[-1].row.id) if len(page) == limit else None
    return web.json_response({"items": items, "next": nxt})


@routes.get("/api/v1/stock/check")
@allow("logistics", "supervisor")
async def check(request: web.Request) -> web.Response:
    """Counters vs ledger: ok only when every row equals the sums of its movements."""
    async with request.app[POOL].acquire() as conn:
        result = await stock.check(conn)
    return web.json_response(
        {
            "ok": result.ok,
            "rows_checked": result.rows_checked,
            "mismatches": [asdict(m) for m in result.mismatches],
        }
    )
