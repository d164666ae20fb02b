"""`telemart bench orders`: order capture over HTTP against PostgreSQL's hot-row limit.

On a fresh database (created on the configured or embedded server, dropped after):
seed SKUs with stock and customers, start `telemart serve` as a subprocess (so the
server has its own core), fire orders with distinct Idempotency-Keys from N
concurrent clients, verify nothing was oversold from the counters and the ledger,
then measure the baseline in the same run: a raw autocommit
`UPDATE ... SET qty = qty - 1 WHERE sku = $1 AND qty > 0` loop on one row at the
same concurrency. ratio = orders_per_s / hot_row_tps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
from typing import Any

import aiohttp
import asyncpg

from config.db import connect, create_pool
from config.migrations import migrate
from config.scratch import scratch_database, server_process
from logistics.stock import check, receive
from orders.catalog import ProductSpec, VariantSpec, create_product
from server.auth import Role, create_user, issue_token

CUSTOMERS = 1000
DELIVERY = {
    "name": "벤치",
    "phone": "+821012345678",
    "address": "서울시 중구 세종대로 110",
    "postal_code": "04524",
}




def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _seed(
    url: str, *, skus: int, stock: int, warmup: int
) -> tuple[list[int], int, list[int], str]:
    conn = await connect(url)
    try:
        await migrate(conn)
        async with conn.transaction():
            view = await create_product(
                conn,
                spec=ProductSpec(
                    code="BENCH",
                    name="bench product",
                    category="bench",
                    price_krw=10_000,
                    variants=tuple(VariantSpec(code=f"BENCH-{i}") for i in range(skus)),
                ),
            )
            sku_ids = [s.id for s in view.skus]
            for sku_id in sku_ids:
                await receive(conn, sku=sku_id, qty=stock, actor="bench")
            # A product of its own for the warm-up, so it never touches the measured stock.
            warm = await create_product(
                conn,
                spec=ProductSpec(
                    code="WARM", name="warm-up product", category="bench", price_krw=10_000,
                    variants=(VariantSpec(code="WARM-0"),),
                ),
            )  # fmt: skip
            warm_sku = warm.skus[0].id
            await receive(conn, sku=warm_sku, qty=max(warmup, 1), actor="bench")
            rows = await conn.fetch(
                "INSERT INTO customers (name, phone_e164) SELECT 'bench ' || g, "
                "'+8210' || lpad(g::text, 8, '0') FROM generate_series(1, $1) g RETURNING id",
                CUSTOMERS,
            )
            user = await create_user(
                conn, username="bench-agent", password=secrets.token_urlsafe(12), role=Role.AGENT
            )
            token = await issue_token(conn, user=user, kind="api", hours=1)
    finally:
        await conn.close()
    return sku_ids, warm_sku, [r["id"] for r in rows], token


async def _fire(
    base: str,
    token: str,
    *,
    sku_ids: list[int],
    customers: list[int],
    orders: int,
    concurrency: int,
    warm_sku: int,
    warmup: int,
) -> dict[str, Any]:
    latencies: list[float] = []
    counts = {"accepted": 0, "rejected_out_of_stock": 0, "errors": 0}
    error_samples: list[str] = []
    last_accepted = 0.0
    next_index = 0
    headers = {"Authorization": f"Bearer {token}"}
    run_id = secrets.token_hex(4)

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal next_index, last_accepted
        while next_index < orders:
            i = next_index
            next_index += 1
            body = {
                "customer_id": customers[i % len(customers)],
                "lines": [{"sku_id": sku_ids[i % len(sku_ids)], "qty": 1}],
                "delivery": DELIVERY,
                "payment": {"method": "card", "installment_months": 0},
            }
            started = time.perf_counter()
            try:
                async with http.post(
                    f"{base}/api/v1/orders",
                    json=body,
                    headers={**headers, "Idempotency-Key": f"bench-{run_id}-{i}"},
                ) as resp:
                    payload = await resp.json()
                    status = resp.status
            except (aiohttp.ClientError, ValueError) as exc:
                counts["errors"] += 1
                error_samples.append(repr(exc))
                continue
            ended = time.perf_counter()
            if status == 201:
                counts["accepted"] += 1
                latencies.append((ended - started) * 1000)
                last_accepted = max(last_accepted, ended)
            elif status == 409 and payload.get("error") == "out_of_stock":
                counts["rejected_out_of_stock"] += 1
            else:
                counts["errors"] += 1
                error_samples.append(f"{status} {payload}")

    async def warm(http: aiohttp.ClientSession, n: int) -> None:
        # Opens the clients' connections and the server's pool and statement caches, as on
        # a server that has been taking orders for a while; nothing of it is measured.
        for i in range(n):
            body = {
                "customer_id": customers[i % len(customers)],
                "lines": [{"sku_id": warm_sku, "qty": 1}],
                "delivery": DELIVERY,
                "payment": {"method": "card", "installment_months": 0},
            }
            async with http.post(
                f"{base}/api/v1/orders", json=body,
                headers={**headers, "Idempotency-Key": f"warm-{run_id}-{n}-{i}-{id(http)}"},
            ) as resp:
                await resp.read()

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        per_client = warmup // concurrency
        if per_client:
            await asyncio.gather(*(warm(http, per_client) for _ in range(concurrency)))
        first = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    elapsed = (last_accepted - first) if last_accepted else 0.0
    return {
        **counts,
        "latencies": latencies,
        "elapsed_s": elapsed,
        "orders_per_s": counts["accepted"] / elapsed if elapsed > 0 else 0.0,
        "error_samples": error_samples[:5],
    }


async def _verify(url: str, *, stock_total: int, sku_ids: list[int]) -> dict[str, Any]:
    conn = await connect(url)
    try:
        units = await conn.fetchval(
            "SELECT coalesce(sum(qty - cancelled_qty), 0) FROM order_lines"
            " WHERE sku_id = ANY($1::bigint[])", sku_ids,
        )  # fmt: skip
        counters = await conn.fetchrow(
            "SELECT sum(on_hand) AS on_hand, sum(reserved) AS reserved FROM stock"
            " WHERE sku_id = ANY($1::bigint[])", sku_ids,
        )  # fmt: skip
        result = await check(conn)
    finally:
        await conn.close()
    return {
        "units_ordered": int(units),
        "reserved": int(counters["reserved"]),
        "on_hand": int(counters["on_hand"]),
        "ledger_ok": result.ok,
        "oversold_db": max(0, int(units) - stock_total),
    }


async def _hot_row(url: str, *, units: int, concurrency: int) -> float:
    """Autocommit decrements of one row until it reaches zero: updates per second."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE bench_hot (sku int PRIMARY KEY, qty int NOT NULL)")
        await conn.execute("INSERT INTO bench_hot VALUES (1, $1)", units)
    finally:
        await conn.close()
    pool = await create_pool(url, min_size=concurrency, max_size=concurrency)
    done = 0

    async def worker() -> None:
        nonlocal done
        async with pool.acquire() as c:
            while True:
                status = await c.execute(
                    "UPDATE bench_hot SET qty = qty - 1 WHERE sku = $1 AND qty > 0", 1
                )
                if status == "UPDATE 0":
                    return
                done += 1

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    assert done == units
    return units / elapsed


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from cli.main import settings_from

    settings = settings_from(args)
    async with scratch_database(settings) as url:
        sku_ids, warm_sku, customers, token = await _seed(
            url, skus=args.skus, stock=args.stock, warmup=args.warmup
        )
        # The server runs in its own process, on the other core.
        server_env = {"TELEMART_POOL_MAX_SIZE": str(args.server_pool)}
        async with server_process(url, "--no-background", env=server_env) as base:
            fired = await _fire(
                base, token, sku_ids=sku_ids, customers=customers, orders=args.orders,
                concurrency=args.concurrency, warm_sku=warm_sku, warmup=args.warmup,
            )  # fmt: skip
        stock_total = args.stock * args.skus
        verified = await _verify(url, stock_total=stock_total, sku_ids=sku_ids)
        hot_tps = await _hot_row(url, units=args.stock, concurrency=args.concurrency)
    lat = fired["latencies"]
    oversold = max(0, fired["accepted"] - stock_total, verified["oversold_db"])
    return {
        "orders_per_s": round(fired["orders_per_s"], 1),
        "p50_ms": round(statistics.median(lat), 2) if lat else 0.0,
        "p99_ms": round(_pct(lat, 0.99), 2),
        "accepted": fired["accepted"],
        "rejected_out_of_stock": fired["rejected_out_of_stock"],
        "oversold": oversold,
        "errors": fired["errors"],
        "hot_row_tps": round(hot_tps, 1),
        "ratio": round(fired["orders_per_s"] / hot_tps, 3) if hot_tps else 0.0,
        "verify": {**verified, "stock": stock_total},
        "error_samples": fired["error_samples"],
        "params": {
            "skus": args.skus,
            "stock": args.stock,
            "orders": args.orders,
            "concurrency": args.concurrency,
            "server_pool": args.server_pool,
            "warmup": args.warmup,
        },
    }


def cmd_bench_orders(args: argparse.Namespace) -> int:
    result = asyncio.run(_run(args))
    if not args.json:
        v = result["verify"]
        print(
            f"orders: {result['accepted']} accepted, {result['rejected_out_of_stock']} out of "
            f"stock, {result['errors']} errors; {result['orders_per_s']} orders/s, "
            f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
        )
        print(
            f"database: {v['units_ordered']} units ordered of {v['stock']}, reserved "
            f"{v['reserved']}, ledger {'ok' if v['ledger_ok'] else 'MISMATCH'}"
        )
        print(f"hot row: {result['hot_row_tps']} updates/s; ratio {result['ratio']}")
    print(json.dumps(result, ensure_ascii=False))
    ok = result["oversold"] == 0 and result["verify"]["ledger_ok"]
    return 0 if ok else 1


def register(bench_sub: Any) -> None:
    """Adds `telemart bench orders`."""
    p = bench_sub.add_parser("orders", help="order capture over HTTP vs the hot-row limit")
    p.add_argument("--skus", type=int, default=1, help="SKUs the orders spread over")
    p.add_argument("--stock", type=int, default=5000, help="units per SKU")
    p.add_argument("--orders", type=int, default=20000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--server-pool", type=int, default=20, help="the server's pool size")
    p.add_argument(
        "--warmup", type=int, default=640,
        help="orders on a separate product first, not measured (0: measure a cold server)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print only the JSON line")
    p.set_defaults(func=cmd_bench_orders)
