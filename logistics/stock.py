"""Stock counters per SKU and warehouse, kept by an append-only movement ledger.

Every change to `stock.on_hand` / `stock.reserved` goes through `apply_movements`,
which appends ledger rows and moves the counters by their sum in one statement,
so `check` can prove counters == ledger. Rows are always locked in primary-key
order (`FOR NO KEY UPDATE`, which does not block foreign-key checks) so two
transactions touching the same rows cannot deadlock. The table's CHECK
constraints (0 <= reserved <= on_hand) are the last guard against overselling.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncpg

from config.sql import load_queries
from logistics.errors import (
    InsufficientStock,
    InvalidQuantity,
    NotStockable,
    UnknownSku,
)
from logistics.warehouses import find_warehouse

Q = load_queries("logistics", "stock.sql")


class MovementKind(enum.StrEnum):
    RECEIPT = "receipt"
    RESERVATION = "reservation"
    RELEASE = "release"
    SHIPMENT = "shipment"
    RETURN = "return"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True, kw_only=True)
class StockRow:
    id: int
    sku_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    low_stock_threshold: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, kw_only=True)
class StockLevel:
    row: StockRow
    sku_code: str
    warehouse_code: str

    @property
    def low(self) -> bool:
        return self.row.available <= self.row.low_stock_threshold


@dataclass(frozen=True, kw_only=True)
class Movement:
    stock_id: int
    kind: MovementKind
    on_hand_delta: int = 0
    reserved_delta: int = 0
    order_id: int | None = None
    reason: str | None = None
    actor: str | None = None


@dataclass(frozen=True, kw_only=True)
class Mismatch:
    stock_id: int
    sku_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    ledger_on_hand: int
    ledger_reserved: int


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    rows_checked: int
    mismatches: tuple[Mismatch, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _row(r: asyncpg.Record) -> StockRow:
    return StockRow(
        id=r["id"],
        sku_id=r["sku_id"],
        warehouse_id=r["warehouse_id"],
        on_hand=r["on_hand"],
        reserved=r["reserved"],
        low_stock_threshold=r["low_stock_threshold"],
    )


async def resolve_sku(conn: asyncpg.Connection, *, sku: int | str) -> int:
    """A stockable SKU's id from its id or code."""
    if isinstance(sku, int):
        row = await conn.fetchrow(Q["sku_by_id"], sku)
    else:
        row = await conn.fetchrow(Q["sku_by_code"], sku)
    if row is None:
        raise UnknownSku(f"no SKU {sku!r}")
    if row["is_set"]:
        raise NotStockable(f"SKU {row['code']} is a set: stock its components")
    return int(row["id"])


async def lock_rows(conn: asyncpg.Connection, *, sku_ids: Iterable[int]) -> list[StockRow]:
    """Lock every stock row of the SKUs, in id order; rows the caller then changes."""
    rows = await conn.fetch(Q["lock_stock_of_skus"], sorted(set(sku_ids)))
    return [_row(r) for r in rows]


async def lock_stock_ids(conn: asyncpg.Connection, *, stock_ids: Iterable[int]) -> list[StockRow]:
    rows = await conn.fetch(Q["lock_stock_ids"], sorted(set(stock_ids)))
    return [_row(r) for r in rows]


async def apply_movements(
    conn: asyncpg.Connection, *, movements: Sequence[Movement]
) -> list[StockRow]:
    """Append the movements to the ledger and apply them to the counters.

    The caller holds the rows' locks when several rows change (see `lock_rows`)."""
    if not movements:
        return []
    try:
        rows = await conn.fetch(
            Q["apply_movements"],
            [m.stock_id for m in movements],
            [m.kind.value for m in movements],
            [m.on_hand_delta for m in movements],
            [m.reserved_delta for m in movements],
            [m.order_id for m in movements],
            [m.reason for m in movements],
            [m.actor for m in movements],
        )
    except asyncpg.CheckViolationError as exc:
        raise InsufficientStock(
            "not enough stock: on hand may not fall below zero or below what is reserved"
        ) from exc
    return [_row(r) for r in rows]


async def reserve_if_available(
    conn: asyncpg.Connection, *, lock_ids: Iterable[int], movements: Sequence[Movement]
) -> tuple[bool, list[StockRow]]:
    """Reserve (`reserved_delta` of each movement) only if every row still has the units.

    One statement: locks the `lock_ids` rows in id order, checks, and if all rows have the
    units appends the ledger rows and moves the counters. Returns whether it did, and the
    locked rows as they were before — current values, still locked — so a caller that
    planned on an older snapshot can plan again and retry without any other lock."""
    if any(m.kind is not MovementKind.RESERVATION or m.on_hand_delta for m in movements):
        raise ValueError("reserve_if_available takes reservations only")
    rows = await conn.fetch(
        Q["reserve_guarded"],
        sorted(set(lock_ids) | {m.stock_id for m in movements}),
        [m.stock_id for m in movements],
        [m.reserved_delta for m in movements],
        [m.order_id for m in movements],
        [m.actor for m in movements],
    )
    ok = bool(rows[0]["ok"]) if rows else not movements
    return ok, [_row(r) for r in rows]


async def _locked_row(
    conn: asyncpg.Connection, *, sku_id: int, warehouse_code: str | None
) -> StockRow:
    warehouse = await find_warehouse(conn, code=warehouse_code)
    await conn.execute(Q["ensure_stock_row"], sku_id, warehouse.id)
    row = await conn.fetchrow(Q["lock_stock_row"], sku_id, warehouse.id)
    assert row is not None
    return _row(row)


async def receive(
    conn: asyncpg.Connection,
    *,
    sku: int | str,
    qty: int,
    actor: str,
    warehouse_code: str | None = None,
    reason: str | None = None,
) -> StockRow:
    """Goods arrived: on_hand += qty (a 'receipt' movement)."""
    if qty <= 0:
        raise InvalidQuantity(f"qty must be positive, got {qty}")
    sku_id = await resolve_sku(conn, sku=sku)
    row = await _locked_row(conn, sku_id=sku_id, warehouse_code=warehouse_code)
    movement = Movement(
        stock_id=row.id, kind=MovementKind.RECEIPT, on_hand_delta=qty, reason=reason, actor=actor
    )
    return (await apply_movements(conn, movements=[movement]))[0]


async def adjust(
    conn: asyncpg.Connection,
    *,
    sku: int | str,
    delta: int,
    reason: str,
    actor: str,
    warehouse_code: str | None = None,
) -> StockRow:
    """A stock count found more or fewer units: on_hand += delta (an 'adjustment').

    On hand may not fall below what is reserved for orders."""
    if delta == 0:
        raise InvalidQuantity("delta must not be zero")
    sku_id = await resolve_sku(conn, sku=sku)
    row = await _locked_row(conn, sku_id=sku_id, warehouse_code=warehouse_code)
    if row.on_hand + delta < row.reserved:
        raise InsufficientStock(
            f"on hand {row.on_hand} {delta:+d} = {row.on_hand + delta} would fall below the "
            f"{row.reserved} units reserved for orders"
        )
    movement = Movement(
        stock_id=row.id,
        kind=MovementKind.ADJUSTMENT,
        on_hand_delta=delta,
        reason=reason,
        actor=actor,
    )
    return (await apply_movements(conn, movements=[movement]))[0]


async def restock_return(
    conn: asyncpg.Connection, *, sku_id: int, qty: int, order_id: int, actor: str
) -> StockRow:
    """Returned goods go back on hand (a 'return' movement), into the warehouse the
    order shipped them from, else the default warehouse."""
    if qty <= 0:
        raise InvalidQuantity(f"qty must be positive, got {qty}")
    await resolve_sku(conn, sku=sku_id)
    stock_id = await conn.fetchval(Q["last_shipment_row"], order_id, sku_id)
    if stock_id is None:
        row = await _locked_row(conn, sku_id=sku_id, warehouse_code=None)
        stock_id = row.id
    else:
        await lock_stock_ids(conn, stock_ids=[stock_id])
    movement = Movement(
        stock_id=stock_id,
        kind=MovementKind.RETURN,
        on_hand_delta=qty,
        order_id=order_id,
        actor=actor,
    )
    return (await apply_movements(conn, movements=[movement]))[0]


async def available(conn: asyncpg.Connection, *, sku_ids: Iterable[int]) -> dict[int, int]:
    """Available units per stocked SKU (0 for SKUs without stock rows)."""
    ids = sorted(set(sku_ids))
    found = {r["sku_id"]: r["available"] for r in await conn.fetch(Q["available_by_sku"], ids)}
    return {sku_id: int(found.get(sku_id, 0)) for sku_id in ids}


async def levels(
    conn: asyncpg.Connection, *, low_only: bool = False, after_id: int = 0, limit: int = 100
) -> list[StockLevel]:
    rows = await conn.fetch(Q["stock_levels"], low_only, after_id, limit)
    return [
        StockLevel(row=_row(r), sku_code=r["sku_code"], warehouse_code=r["warehouse_code"])
        for r in rows
    ]


async def set_low_threshold(conn: asyncpg.Connection, *, stock_id: int, threshold: int) -> None:
    await conn.execute(Q["set_low_threshold"], stock_id, threshold)


async def check(conn: asyncpg.Connection) -> CheckResult:
    """Prove the counters: each row's on_hand and reserved equal its ledger's sums."""
    rows = await conn.fetch(Q["check_counters"])
    bad = tuple(
        Mismatch(
            stock_id=r["id"],
            sku_id=r["sku_id"],
            warehouse_id=r["warehouse_id"],
            on_hand=r["on_hand"],
            reserved=r["reserved"],
            ledger_on_hand=int(r["ledger_on_hand"]),
            ledger_reserved=int(r["ledger_reserved"]),
        )
        for r in rows
        if r["on_hand"] != r["ledger_on_hand"] or r["reserved"] != r["ledger_reserved"]
    )
    return CheckResult(rows_checked=len(rows), mismatches=bad)
