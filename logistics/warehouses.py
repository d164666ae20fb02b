"""Warehouses: where stock is kept."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from config.sql import load_queries
from logistics.errors import UnknownWarehouse

Q = load_queries("logistics", "stock.sql")
DEFAULT_WAREHOUSE_CODE = "MAIN"  # created by migration 0013


@dataclass(frozen=True, kw_only=True)
class Warehouse:
    id: int
    code: str
    name: str


def _warehouse(row: asyncpg.Record) -> Warehouse:
    return Warehouse(id=row["id"], code=row["code"], name=row["name"])


async def list_warehouses(conn: asyncpg.Connection) -> list[Warehouse]:
    return [_warehouse(r) for r in await conn.fetch(Q["list_warehouses"])]


async def save_warehouse(conn: asyncpg.Connection, *, code: str, name: str) -> Warehouse:
    row = await conn.fetchrow(Q["insert_warehouse"], code, name)
    assert row is not None
    return _warehouse(row)


async def find_warehouse(conn: asyncpg.Connection, *, code: str | None = None) -> Warehouse:
    """The warehouse with `code`, or the default (lowest id) when no code is given."""
    if code is None:
        row = await conn.fetchrow(Q["default_warehouse"])
    else:
        row = await conn.fetchrow(Q["warehouse_by_code"], code)
    if row is None:
        raise UnknownWarehouse(f"no warehouse {code!r}" if code else "no warehouse exists")
    return _warehouse(row)
