"""`telemart bench tracking`: signed webhook ingest with duplicates and out-of-order events.

On a fresh database: creates dispatched shipments, generates each one's true
sequence of checkpoints, shuffles in 10 % duplicates and 10 % late (out-of-order)
events, and posts them in signed batches to the real webhook endpoint of an
in-process server on localhost. Then compares every shipment's final status with
the truth. Baseline in the same run: COPY of the same checkpoint rows into a
bare table (the raw write ceiling).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
from pydantic import SecretStr

from config.db import connect, create_pool
from config.migrations import migrate
from config.scratch import scratch_database, server_process
from logistics.tracking import SIGNATURE_HEADER, sign

Event = dict[str, Any]




def journey(rng: random.Random, number: str, t0: datetime) -> list[Event]:
    """One parcel's true checkpoints in time order; the last one is its final status."""
    statuses = ["in_transit"] * rng.randint(2, 4) + ["out_for_delivery"]
    roll = rng.random()
    if roll < 0.75:
        statuses.append("delivered")
    elif roll < 0.85:
        statuses += ["attempt_fail", "out_for_delivery", "delivered"]
    elif roll < 0.90:
        statuses.append("exception")
    elif roll < 0.95:
        statuses += ["attempt_fail", "attempt_fail", "returned_to_sender"]
    else:
        statuses = statuses[: rng.randint(1, len(statuses))]  # still on its way
    at = t0 + timedelta(minutes=rng.randint(0, 600))
    events = []
    for i, status in enumerate(statuses):
        at += timedelta(minutes=rng.randint(20, 600))
        event: Event = {
            "tracking_number": number, "status": status, "occurred_at": at.isoformat(),
            "location": f"hub {rng.randint(1, 40)}", "message": status,
        }  # fmt: skip
        if rng.random() < 0.5:
            event["event_id"] = f"{number}-{i}"  # half carry a provider id, half do not
        events.append(event)
    return events


def build_stream(rng: random.Random, truth: dict[str, list[Event]], total: int) -> tuple[
    list[Event], int, int
]:  # fmt: skip
    """Interleave in time order, delay 10 % of the events, add 10 % duplicates."""
    stream = sorted((e for es in truth.values() for e in es), key=lambda e: e["occurred_at"])
    late = rng.sample(range(len(stream)), len(stream) // 10)
    moved = [stream[i] for i in late]
    late_set = set(late)
    stream = [e for i, e in enumerate(stream) if i not in late_set]
    for event in moved:
        position = rng.randint(0, len(stream))
        # Later than where it belongs, so it arrives after newer checkpoints.
        stream.insert(position, event)
    duplicates = total - sum(len(es) for es in truth.values())
    for _ in range(duplicates):
        stream.insert(rng.randint(0, len(stream)), dict(rng.choice(stream)))
    return stream, len(moved), duplicates


async def _seed(conn: asyncpg.Connection, shipments: int) -> list[str]:
    await conn.execute(
        "INSERT INTO customers (name, phone_e164) SELECT 'bench ' || g,"
        " '+8210' || lpad(g::text, 8, '0') FROM generate_series(1, $1) g", shipments,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO orders (customer_id, status, total_krw, payment_method, delivery)"
        " SELECT id, 'shipped', 10000, 'card', '{}'::jsonb FROM customers ORDER BY id"
    )
    rows = await conn.fetch(
        "INSERT INTO shipments (order_id, seq, customer_id, carrier, tracking_number,"
        " dispatched_at, status, status_rank) SELECT id, 1, customer_id, 'cj',"
        " '7' || lpad(id::text, 11, '0'), now(), 'info_received', 1 FROM orders"
        " RETURNING tracking_number"
    )
    return [r["tracking_number"] for r in rows]


async def _copy_baseline(conn: asyncpg.Connection, stream: list[Event]) -> float:
    await conn.execute(
        "CREATE TEMP TABLE bench_copy (LIKE tracking_checkpoints INCLUDING DEFAULTS)"
    )
    records = [
        (1, "telemart", e.get("event_id") or "h", e["status"], e["status"],
         datetime.fromisoformat(e["occurred_at"]), e["location"], e["message"])
        for e in stream
    ]  # fmt: skip
    columns = ["shipment_id", "provider", "dedup_key", "status", "raw_status", "occurred_at",
               "location", "message"]  # fmt: skip
    started = time.perf_counter()
    await conn.copy_records_to_table("bench_copy", records=records, columns=columns)
    return len(records) / (time.perf_counter() - started)


async def _post_all(base: str, bodies: list[tuple[bytes, str]], concurrency: int) -> float:
    queue: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                body, signature = queue.get_nowait()
                async with session.post(
                    f"{base}/api/v1/tracking/webhook/telemart", data=body,
                    headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
                ) as resp:  # fmt: skip
                    if resp.status != 200:
                        raise RuntimeError(f"webhook answered {resp.status}: {await resp.text()}")
                    await resp.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from cli.main import settings_from

    rng = random.Random(args.seed)
    settings = settings_from(args)
    secret = secrets.token_hex(16)
    settings = settings.model_copy(update={"tracking_secrets": {"telemart": SecretStr(secret)}})
    duplicates_target = args.events // 10
    base_target = args.events - duplicates_target
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    async with scratch_database(settings) as url:
        conn = await connect(url)
        try:
            await migrate(conn)
            journeys: list[list[Event]] = []
            count = 0
            while count < base_target:
                journeys.append(journey(rng, "", t0)[: base_target - count])
                count += len(journeys[-1])
            numbers = await _seed(conn, len(journeys))
            truth: dict[str, list[Event]] = {}
            for number, events in zip(numbers, journeys, strict=True):
                for i, event in enumerate(events):
                    event["tracking_number"] = number
                    if "event_id" in event:
                        event["event_id"] = f"{number}-{i}"
                truth[number] = events
            stream, late, dups = build_stream(rng, truth, args.events)
            copy_rate = await _copy_baseline(conn, stream)
        finally:
            await conn.close()
        bodies = []
        for i in range(0, len(stream), args.batch):
            body = json.dumps(stream[i : i + args.batch]).encode()
            bodies.append((body, sign(secret, body)))
        # The server runs in its own process, on the other core.
        server_env = {"TELEMART_TRACKING_SECRETS": json.dumps({"telemart": secret})}
        async with server_process(url, "--no-background", env=server_env) as base:
            elapsed = await _post_all(base, bodies, args.concurrency)
        pool = await create_pool(url, min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn:
                rows = await conn.fetch(
                    "SELECT tracking_number, status FROM shipments"
                    " WHERE tracking_number = ANY($1)", list(truth),
                )  # fmt: skip
                stored = await conn.fetchval("SELECT count(*) FROM tracking_checkpoints")
        finally:
            await pool.close()
    final = {r["tracking_number"]: r["status"] for r in rows}
    mismatches = sum(final.get(n) != es[-1]["status"] for n, es in truth.items() if es)
    return {
        "events": len(stream), "events_per_s": round(len(stream) / elapsed, 1),
        "shipments": len(truth), "mismatches": mismatches,
        "copy_events_per_s": round(copy_rate, 1), "seconds": round(elapsed, 3),
        "stored": stored, "expected_stored": count, "duplicates": dups, "late": late,
        "batch": args.batch, "concurrency": args.concurrency,
    }  # fmt: skip


def cmd_bench(args: argparse.Namespace) -> int:
    results = [asyncio.run(run(args)) for _ in range(args.repeat)]
    result = dict(results[-1])
    if args.repeat > 1:
        result["events_per_s"] = statistics.median(r["events_per_s"] for r in results)
        result["copy_events_per_s"] = statistics.median(r["copy_events_per_s"] for r in results)
        result["mismatches"] = max(r["mismatches"] for r in results)
        result["runs"] = [r["events_per_s"] for r in results]
    if not args.json:
        print(
            f"{result['events']} events ({result['duplicates']} duplicates, {result['late']} late)"
            f" for {result['shipments']} shipments: {result['events_per_s']} events/s through"
            f" the signed webhook, {result['copy_events_per_s']} events/s raw COPY;"
            f" {result['mismatches']} final statuses differ from the truth"
        )
    print(json.dumps(result))
    return 0 if result["mismatches"] == 0 and result["stored"] == result["expected_stored"] else 1


def register(bench_sub: Any) -> None:
    """Adds this benchmark to `telemart bench`."""
    p = bench_sub.add_parser("tracking", help="tracking webhook ingest: events/s, correctness")
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--batch", type=int, default=500, help="events per webhook request")
    p.add_argument("--concurrency", type=int, default=2, help="requests in flight")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=1, help="runs; the median is reported")
    p.add_argument("--json", action="store_true", help="print only the JSON line")
    p.set_defaults(func=cmd_bench)
