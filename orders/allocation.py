"""Allocation of a batch's orders to stock rows: pure code, no database.

Each order is accepted whole or refused (naming its first short line) in arrival
order, against the free units of the rows; accepted orders become reservation
movements for `logistics.stock.reserve_if_available`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from logistics.stock import Movement, MovementKind, StockRow
from orders.errors import OrdersError, OutOfStock
from orders.models import OrderRequest


@dataclass(frozen=True, kw_only=True)
class SkuInfo:
    id: int
    code: str
    product_id: int
    unit_price_krw: int
    per_customer_limit: int | None
    active: bool
    components: tuple[tuple[int, int], ...]  # (stocked sku id, units per set); empty = itself

    def stocked(self) -> tuple[tuple[int, int], ...]:
        return self.components or ((self.id, 1),)


@dataclass(kw_only=True)
class _Plan:
    index: int
    request: OrderRequest
    prices: list[int]
    # stocked sku id -> (units, index of the first line needing it)
    demand: dict[int, tuple[int, int]]
    allocations: list[tuple[int, int, int, int]] | None = None  # (line idx, stock, sku, qty)
    order_id: int = 0
    line_ids: tuple[int, ...] = ()


def _allocate(
    plan: _Plan,
    rows_by_sku: dict[int, list[StockRow]],
    free: dict[int, int],
    skus: dict[int, SkuInfo],
) -> OrdersError | None:
    """Pick stock rows for every line, or report the first short line (touching nothing)."""
    taken: dict[int, int] = defaultdict(int)
    picks: list[tuple[int, int, int, int]] = []
    for i, line in enumerate(plan.request.lines):
        for stocked, per in skus[line.sku_id].stocked():
            need = per * line.qty
            rows = rows_by_sku.get(stocked, [])
            left = [(r.id, free[r.id] - taken[r.id]) for r in rows]
            total = sum(n for _, n in left)
            if total < need:
                info = skus[line.sku_id]
                can = _units_left(info, rows_by_sku, free, taken)
                return OutOfStock(
                    f"SKU {info.code}: only {can} left, {line.qty} ordered",
                    field=f"lines.{i}.sku_id",
                    sku_id=info.id,
                    sku=info.code,
                    available=can,
                )
            # Deterministic: the lowest stock id that holds it all, else split in id order.
            whole = next((sid for sid, n in left if n >= need), None)
            chosen = [(whole, need)] if whole is not None else []
            if whole is None:
                rest = need
                for sid, n in left:
                    if rest == 0:
                        break
                    take = min(n, rest)
                    if take > 0:
                        chosen.append((sid, take))
                        rest -= take
            for sid, qty in chosen:
                taken[sid] += qty
                picks.append((i, sid, stocked, qty))
    for sid, qty in taken.items():
        free[sid] -= qty
    plan.allocations = picks
    return None


def _units_left(
    info: SkuInfo,
    rows_by_sku: dict[int, list[StockRow]],
    free: dict[int, int],
    taken: dict[int, int],
) -> int:
    counts = [
        sum(free[r.id] - taken[r.id] for r in rows_by_sku.get(stocked, [])) // per
        for stocked, per in info.stocked()
    ]
    return max(0, min(counts))


def allocate_all(
    plans: list[_Plan], rows: list[StockRow], skus: dict[int, SkuInfo]
) -> tuple[list[_Plan], dict[int, OrdersError]]:
    """Accept or refuse each plan whole, in arrival order, against the rows' free units."""
    rows_by_sku: dict[int, list[StockRow]] = defaultdict(list)
    for row in rows:
        rows_by_sku[row.sku_id].append(row)
    free = {row.id: row.available for row in rows}
    accepted: list[_Plan] = []
    refused: dict[int, OrdersError] = {}
    for plan in plans:
        plan.allocations = None
        short = _allocate(plan, rows_by_sku, free, skus)
        if short is None:
            accepted.append(plan)
        else:
            refused[plan.index] = short
    return accepted, refused


def reservations(plans: list[_Plan]) -> list[Movement]:
    return [
        Movement(
            stock_id=stock_id,
            kind=MovementKind.RESERVATION,
            reserved_delta=qty,
            order_id=plan.order_id,
            actor=plan.request.actor,
        )
        for plan in plans
        for _, stock_id, _, qty in plan.allocations or ()
    ]
