"""Idempotency-Key handling for order capture.

A key is claimed inside the order's own transaction: `place_orders` inserts the
batch's keys as 'running' in its first statement (`prepare_batch`), stores the
response ('done') with the order, and deletes the claim of a refused request in
the same statement, so a refusal leaves nothing behind and the key may be used
again. A 'running' row is therefore never visible to other transactions; a
duplicate sent while the first request runs is either in the same batch (told
409 at once) or waits, at most for the length of one batch transaction, on the
first one's uncommitted key row and is then answered with the stored response.
Rows left 'running' by an older version that died are taken over after a lease.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from config.sql import load_queries
from orders.errors import AlreadyAnswered, KeyReused, OrdersError, RequestInProgress
from orders.models import IdempotencyRef

Q = load_queries("orders", "queries.sql")
# A claim with no answer after this long belongs to a process that died.
RUNNING_LEASE_S = 120.0
# Answered keys are kept this long, then purged by a job.
RETENTION_S = 7 * 24 * 3600.0


def request_hash(body: Any) -> str:
    """A stable hash of a JSON body: key order and spacing do not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim_token(user_id: int, key: str) -> str:
    """How `prepare_batch` names a claimed key (user id, then the key)."""
    return f"{user_id}:{key}"


async def settle_unclaimed(
    conn: asyncpg.Connection, *, refs: Sequence[tuple[int, IdempotencyRef]]
) -> dict[int, OrdersError | None]:
    """Why each (index, key) that `prepare_batch` could not claim may not run: answered
    before (replay), reused with another body, or still running. None = claimed after all
    (a stale claim taken over)."""
    rows = await conn.fetch(
        Q["read_keys"], [r.user_id for _, r in refs], [r.key for _, r in refs], RUNNING_LEASE_S
    )
    found = {(row["user_id"], row["key"]): row for row in rows}
    out: dict[int, OrdersError | None] = {}
    for index, ref in refs:
        row = found.get((ref.user_id, ref.key))
        if row is None:  # released between our insert and read: the client may retry
            out[index] = RequestInProgress()
        elif row["request_hash"] != ref.request_hash:
            out[index] = KeyReused()
        elif row["state"] == "done":
            out[index] = AlreadyAnswered(
                status=row["response_status"] or 201, body=row["response_body"]
            )
        elif row["stale"] and await conn.fetchval(
            Q["take_over_key"], ref.user_id, ref.key, RUNNING_LEASE_S
        ):
            out[index] = None
        else:
            out[index] = RequestInProgress()
    return out


async def purge(conn: asyncpg.Connection) -> str:
    result: str = await conn.execute(Q["purge_keys"], RETENTION_S)
    return result
