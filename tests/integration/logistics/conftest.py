"""Fixtures for logistics: signed webhooks and orders written straight into the tables."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pydantic import SecretStr

from config.settings import Settings
from logistics.tracking import SIGNATURE_HEADER, sign

SECRETS = {"telemart": "hook-secret-1", "sweettracker": "st-secret", "aftership": "as-secret"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home", pool_min_size=1, pool_max_size=10,
        tracking_secrets={k: SecretStr(v) for k, v in SECRETS.items()},
    )  # fmt: skip


def signed(provider: str, payload: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    signature = sign(SECRETS[provider], body)
    return body, {SIGNATURE_HEADER: signature, "Content-Type": "application/json"}


async def make_sku(conn: asyncpg.Connection, *, stock: int | None = None) -> int:
    code = secrets.token_hex(4)
    product = await conn.fetchval(
        "INSERT INTO products (code, name, category, price_krw) VALUES ($1, $2, 'test', 10000)"
        " RETURNING id", f"P{code}", f"product {code}",
    )  # fmt: skip
    sku: int = await conn.fetchval(
        "INSERT INTO skus (product_id, code) VALUES ($1, $2) RETURNING id", product, f"S{code}"
    )
    if stock is not None:
        wh = await conn.fetchval("SELECT id FROM warehouses ORDER BY id LIMIT 1")
        if wh is None:
            wh = await conn.fetchval(
                "INSERT INTO warehouses (code, name) VALUES ('W1', 'main') RETURNING id"
            )
        await conn.execute(
            "INSERT INTO stock (sku_id, warehouse_id, on_hand) VALUES ($1, $2, $3)", sku, wh, stock
        )
    return sku


async def make_order(
    conn: asyncpg.Connection, *, lines: list[tuple[int, int]] | None = None,
    phone: str | None = None, telephone: bool = True, status: str = "paid",
    outbox: bool = True,
) -> int:
    """A paid order with its 'order.paid' outbox row, as the orders domain writes them."""
    phone = phone or f"010{secrets.randbelow(10**8):08d}"
    e164 = "+82" + phone.replace("-", "")[1:]
    customer = await conn.fetchval(
        "INSERT INTO customers (name, phone_e164) VALUES ('김고객', $1)"
        " ON CONFLICT (phone_e164) DO UPDATE SET name = excluded.name RETURNING id", e164,
    )  # fmt: skip
    if lines is None:
        lines = [(await make_sku(conn), 1)]
    delivery = {"name": "김고객", "phone": phone, "address": "서울 강남구 테헤란로 1",
                "postal_code": "06234"}  # fmt: skip
    order_id: int = await conn.fetchval(
        "INSERT INTO orders (customer_id, status, total_krw, payment_method, delivery,"
        " attempt_id, agent_id) VALUES ($1, $2, 10000, 'card', $3, $4, $4) RETURNING id",
        customer, status, delivery, 1 if telephone else None,
    )  # fmt: skip
    for sku, qty in lines:
        await conn.execute(
            "INSERT INTO order_lines (order_id, sku_id, qty, unit_price_krw)"
            " VALUES ($1, $2, $3, 10000)", order_id, sku, qty,
        )  # fmt: skip
    if outbox:
        payload = {
            "order_id": order_id, "customer_id": customer,
            "lines": [{"sku_id": s, "qty": q} for s, q in lines], "delivery": delivery,
            "cod": False,
        }  # fmt: skip
        await conn.execute(
            "INSERT INTO outbox (topic, key, payload) VALUES ('order.paid', $1, $2)",
            str(order_id), payload,
        )  # fmt: skip
    return order_id
