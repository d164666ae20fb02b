"""`telemart bench segment`: segment previews and list building on a large customer base.

Seeds a fresh database (created for the run, dropped after) with generate_series: N
customers, about 5 N orders with one line each, a do-not-call list and contact history.
Then refreshes RFM, times the preview (count + 20-customer sample) of a fixed set of
typical segments, and builds a campaign list of about 100 000 leads. The baseline in the
same run is a plain `count(*)` of the customers table. Goals: preview p95 ≤ 300 ms,
list build ≤ 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import time
from typing import Any

import asyncpg

from config.db import connect
from config.migrations import migrate
from config.scratch import scratch_database
from crm.rfm import refresh_rfm
from crm.segments import SegmentKind, preview, save_segment

REGIONS = ("서울", "경기", "부산", "인천", "대구", "대전", "광주", "울산", "세종", "강원",
           "충북", "충남", "전북", "전남", "경북", "경남", "제주")  # fmt: skip
CATEGORIES = ("health", "beauty", "kitchen", "fashion", "food", "living", "digital",
              "sports", "kids", "pets")  # fmt: skip
CONSENT_RATE = 0.9
SEEDED_TABLES = ("customers", "products", "skus", "orders", "order_lines", "do_not_call",
                 "contact_attempts")
DNC_RATE = 0.02

SEGMENTS: dict[str, dict[str, Any]] = {
    "seoul_gyeonggi_consent": {"all": [
        {"field": "region", "op": "in", "value": ["서울", "경기"]},
        {"field": "consent_marketing", "op": "eq", "value": True}]},
    "rfm_loyal": {"all": [
        {"field": "rfm_r", "op": "gte", "value": 4}, {"field": "rfm_f", "op": "gte", "value": 3}]},
    "women_30s_40s_big_spenders": {"all": [
        {"field": "age_band", "op": "in", "value": ["30s", "40s"]},
        {"field": "gender", "op": "eq", "value": "F"},
        {"field": "total_spend", "op": "gte", "value": 1_000_000}]},
    "lapsed_not_dnc": {"all": [
        {"field": "days_since_last_purchase", "op": "between", "value": [90, 365]},
        {"not": {"field": "do_not_call", "op": "eq", "value": True}}]},
    "health_buyers_90d": {"field": "bought_category", "op": "in", "value": ["health"],
                          "within_days": 90},
    "not_contacted_no_refusal": {"all": [
        {"field": "contacted", "op": "not_within_days", "value": 30},
        {"field": "last_disposition", "op": "not_in", "value": ["do_not_call", "no_sale"]}]},
    "frequent_night_owls": {"all": [
        {"field": "order_count", "op": "gte", "value": 8},
        {"field": "consent_night", "op": "eq", "value": True}]},
    "busan_or_top_spend": {"any": [
        {"field": "region", "op": "eq", "value": "부산"},
        {"field": "rfm_m", "op": "eq", "value": 5}]},
}  # fmt: skip

SEED_SQL = (
    "SET synchronous_commit = off",
    """INSERT INTO products (code, name, category, price_krw)
       SELECT 'P' || g, '상품 ' || g, ($1::text[])[1 + g % array_length($1::text[], 1)],
              10000 + (g * 7919) % 290000
       FROM generate_series(1, 200) g""",
    "INSERT INTO skus (product_id, code) SELECT id, code || '-1' FROM products",
    """INSERT INTO customers (name, phone_e164, region, gender, birth_date,
                             consent_marketing, consent_night, source)
       SELECT '고객' || g, '+8210' || lpad(g::text, 8, '0'),
              ($2::text[])[1 + g % array_length($2::text[], 1)],
              CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END,
              date '1945-01-01' + ((g::bigint * 7919) % 22000)::int,
              random() < $3, random() < 0.1, 'bench'
       FROM generate_series(1, $1::int) g""",
    # Skewed: low ids buy more often, like real customer bases.
    # updated_at = placed_at: a settled history, as a live base has (the orders domain
    # bumps updated_at on every change).
    """INSERT INTO orders (customer_id, status, total_krw, payment_method, delivery, placed_at,
                          updated_at)
       SELECT customer_id, status, total_krw, 'card', '{}'::jsonb, at, at
       FROM (SELECT 1 + floor($1::int * random() ^ 2)::bigint AS customer_id,
                    CASE WHEN random() < 0.03 THEN 'cancelled' ELSE 'delivered' END AS status,
                    10000 + floor(random() * 300000)::bigint AS total_krw,
                    now() - random() * interval '730 days' AS at
             FROM generate_series(1, $2::int) g) x""",
    """INSERT INTO order_lines (order_id, sku_id, qty, unit_price_krw)
       SELECT o.id, 1 + (o.id * 31) % 200, 1, o.total_krw FROM orders o""",
    """INSERT INTO do_not_call (phone_e164, kind, source)
       SELECT phone_e164, 'national', 'bench' FROM customers WHERE random() < $1""",
    """INSERT INTO contact_attempts (customer_id, phone_e164, at, outcome, disposition)
       SELECT c, '+8210' || lpad(c::text, 8, '0'), now() - random() * interval '120 days',
              'answered_live', ($2::text[])[1 + g % 4]
       FROM (SELECT g, 1 + floor($1::int * random())::bigint AS c
             FROM generate_series(1, $1::int / 5) g) x""",
)



def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def _seed(conn: asyncpg.Connection, customers: int, orders: int) -> None:
    args: list[tuple[Any, ...]] = [
        (), (list(CATEGORIES),), (), (customers, list(REGIONS), CONSENT_RATE),
        (customers, orders), (), (DNC_RATE,),
        (customers, ["no_sale", "callback", "no_answer", "do_not_call"]),
    ]  # fmt: skip
    # Secondary indexes are dropped while seeding and rebuilt after (a sort per index is
    # far faster than millions of random inserts); constraints' own indexes stay.
    indexes = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public'"
        " AND i.tablename = ANY($1::text[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)",
        list(SEEDED_TABLES),
    )  # fmt: skip
    for index in indexes:
        await conn.execute(f'DROP INDEX "{index["indexname"]}"')
    try:
        # Skip foreign-key triggers while seeding a throwaway database (superuser only):
        # the generated rows are consistent by construction.
        await conn.execute("SET session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        pass
    for sql, params in zip(SEED_SQL, args, strict=True):
        await conn.execute(sql, *params)
    await conn.execute("RESET session_replication_role")
    await conn.execute("SET maintenance_work_mem = '256MB'")
    for index in indexes:
        await conn.execute(index["indexdef"])
    await conn.execute("ANALYZE")


async def _timed(coro: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = await coro
    return result, time.perf_counter() - started


async def run_bench(
    url: str, *, customers: int, orders_per_customer: float, runs: int, list_size: int,
    log: Any,
) -> dict[str, Any]:
    orders = int(customers * orders_per_customer)
    conn = await connect(url)
    try:
        await migrate(conn)
        _, seed_s = await _timed(_seed(conn, customers, orders))
        log(f"seeded {customers} customers, {orders} orders in {seed_s:.1f} s")
        rfm, rfm_s = await _timed(refresh_rfm(conn, trigger="bench"))
        # A settled base, as autovacuum keeps one: statistics and visibility maps.
        await conn.execute("VACUUM ANALYZE")
        log(f"RFM refresh: {rfm.customers} customers scored in {rfm_s:.1f} s")
        baseline: list[float] = []
        timings: dict[str, list[float]] = {key: [] for key in SEGMENTS}
        counts: dict[str, int] = {}
        await preview(conn, filter_doc=SEGMENTS["rfm_loyal"])  # warm the caches once
        for _ in range(runs):
            _, spent = await _timed(conn.fetchval("SELECT count(*) FROM customers"))
            baseline.append(spent)
            for key, doc in SEGMENTS.items():
                result, spent = await _timed(preview(conn, filter_doc=doc))
                timings[key].append(spent)
                counts[key] = result.count
        for key in SEGMENTS:
            log(f"  {key:<28} {counts[key]:>9} customers  "
                f"p50 {statistics.median(timings[key]) * 1000:7.1f} ms")  # fmt: skip
        all_times = [t for values in timings.values() for t in values]

        # A list of about `list_size` leads: enough regions to reach it after suppression.
        per_region = customers / len(REGIONS) * CONSENT_RATE * (1 - DNC_RATE)
        k = max(1, min(len(REGIONS), round(list_size / per_region)))
        doc = {"field": "region", "op": "in", "value": list(REGIONS[:k])}
        segment = await save_segment(conn, name="bench list", kind=SegmentKind.DYNAMIC,
                                     filter_doc=doc, actor="bench")  # fmt: skip
        from dialer.store.campaigns import create_campaign
        from dialer.store.campaigns_config import CampaignConfig
        from dialer.store.lists import build_list

        campaign = await create_campaign(conn, config=CampaignConfig(name="bench"),
                                         actor="bench")  # fmt: skip
        built, list_s = await _timed(build_list(
            conn, campaign_id=campaign.id, segment=segment, exclude_contacted_days=7,
            priority=100, actor="bench"))  # fmt: skip
        log(f"list: {built.candidates} candidates, {built.added} leads in {list_s:.2f} s; "
            f"suppressed {built.suppression}")  # fmt: skip
    finally:
        await conn.close()
    return {
        "customers": customers, "orders": orders,
        "preview_p50_ms": round(statistics.median(all_times) * 1000, 1),
        "preview_p95_ms": round(_percentile(all_times, 0.95) * 1000, 1),
        "list_build_s": round(list_s, 3), "list_members": built.added,
        "baseline_count_p50_ms": round(statistics.median(baseline) * 1000, 1),
        "rfm_refresh_s": round(rfm_s, 2), "seed_s": round(seed_s, 1),
        "preview_runs": len(all_times), "segments": len(SEGMENTS),
    }  # fmt: skip


def cmd_bench_segment(args: argparse.Namespace) -> int:
    from cli.main import settings_from

    def log(message: str) -> None:
        if not args.json:
            print(message, flush=True)

    async def run() -> dict[str, Any]:
        settings = settings_from(args)
        async with scratch_database(settings, prefix="telemart_bench_seg") as url:
            return await run_bench(
                url, customers=args.customers, orders_per_customer=args.orders_per_customer,
                runs=args.runs, list_size=args.list_size, log=log,
            )  # fmt: skip

    result = asyncio.run(run())
    print(json.dumps(result))
    return 0


def register(bench_sub: Any) -> None:
    p = bench_sub.add_parser("segment", help="segment preview latency and list building")
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--orders-per-customer", type=float, default=5.0)
    p.add_argument("--runs", type=int, default=5, help="previews of each segment")
    p.add_argument("--list-size", type=int, default=100_000, help="leads wanted in the list")
    p.add_argument("--json", action="store_true", help="print only the JSON result")
    p.set_defaults(func=cmd_bench_segment)


