"""Pure parts of orders: prices, request hashes, deterministic allocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from logistics.stock import StockRow
from orders.capture import SkuInfo, _allocate, _Plan, effective_price
from orders.errors import OutOfStock
from orders.idempotency import request_hash
from orders.models import LineRequest, OrderRequest, PaymentMethod

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def _price_row(**kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "price_krw": 10_000,
        "sku_price_krw": None,
        "broadcast_price_krw": None,
        "broadcast_from": None,
        "broadcast_until": None,
    }
    row.update(kw)
    return row


def test_broadcast_price_applies_only_inside_its_window() -> None:
    window = {
        "broadcast_price_krw": 7_900,
        "broadcast_from": NOW - timedelta(hours=1),
        "broadcast_until": NOW + timedelta(hours=1),
    }
    assert effective_price(_price_row(**window), NOW) == 7_900
    assert effective_price(_price_row(**window), NOW + timedelta(hours=1)) == 10_000  # end excluded
    assert (
        effective_price(_price_row(**window, sku_price_krw=12_000), NOW - timedelta(days=1))
        == 12_000
    )
    assert effective_price(_price_row(), NOW) == 10_000


def test_request_hash_ignores_key_order_and_spacing() -> None:
    assert request_hash({"a": 1, "b": [1, 2]}) == request_hash({"b": [1, 2], "a": 1})
    assert request_hash({"a": 1}) != request_hash({"a": 2})


def _row(id_: int, sku: int, on_hand: int) -> StockRow:
    return StockRow(
        id=id_, sku_id=sku, warehouse_id=id_, on_hand=on_hand, reserved=0, low_stock_threshold=0
    )


def _plan(lines: list[tuple[int, int]]) -> _Plan:
    request = OrderRequest(
        customer_id=1,
        lines=tuple(LineRequest(sku_id=s, qty=q) for s, q in lines),
        delivery={},
        payment_method=PaymentMethod.CARD,
    )
    demand = {s: (q, i) for i, (s, q) in enumerate(lines)}
    return _Plan(index=0, request=request, prices=[0] * len(lines), demand=demand)


SKUS = {
    1: SkuInfo(
        id=1,
        code="A",
        product_id=1,
        unit_price_krw=0,
        per_customer_limit=None,
        active=True,
        components=(),
    ),
    2: SkuInfo(
        id=2,
        code="B",
        product_id=1,
        unit_price_krw=0,
        per_customer_limit=None,
        active=True,
        components=(),
    ),
    3: SkuInfo(
        id=3,
        code="AB",
        product_id=2,
        unit_price_krw=0,
        per_customer_limit=None,
        active=True,
        components=((1, 2), (2, 1)),
    ),
}


def test_allocation_prefers_lowest_stock_id_that_holds_the_line_then_splits() -> None:
    rows = {1: [_row(10, 1, 2), _row(11, 1, 5)]}
    free = {10: 2, 11: 5}
    plan = _plan([(1, 3)])
    assert _allocate(plan, rows, free, SKUS) is None
    assert plan.allocations == [(0, 11, 1, 3)]
    plan = _plan([(1, 4)])
    assert _allocate(plan, rows, free, SKUS) is None
    assert plan.allocations == [(0, 10, 1, 2), (0, 11, 1, 2)]
    assert free == {10: 0, 11: 0}


def test_short_set_line_reports_sets_left_and_takes_nothing() -> None:
    rows = {1: [_row(10, 1, 5)], 2: [_row(20, 2, 9)]}
    free = {10: 5, 20: 9}
    error = _allocate(_plan([(2, 1), (3, 3)]), rows, free, SKUS)
    assert isinstance(error, OutOfStock)
    assert error.extra["available"] == 2  # floor(5 / 2) sets
    assert error.field == "lines.1.sku_id"
    assert free == {10: 5, 20: 9}
