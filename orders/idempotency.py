"""Idempotency-Key handling for order capture.

A key is claimed in its own short transaction ('running'), so a duplicate that
arrives while the first request runs is told so (409) instead of waiting on a
lock; the order's transaction stores the response ('done'); a refused request
releases its claim, so nothing is left behind and the key may be used again.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from config.sql import load_queries

Q = load_queries("orders", "queries.sql")
# A claim with no answer after this long belongs to a process that died.
RUNNING_LEASE_S = 120.0
# Answered keys are kept this long, then purged by a job.
RETENTION_S = 7 * 24 * 3600.0


class ClaimState(enum.StrEnum):
    CLAIMED = "claimed"  # ours: go ahead
    REPLAY = "replay"  # answered before: return the stored response
    RUNNING = "running"  # the first request is still running
    MISMATCH = "mismatch"  # the key was used with a different body


@dataclass(frozen=True, kw_only=True)
class Claim:
    state: ClaimState
    status: int | None = None
    body: Any = None


def request_hash(body: Any) -> str:
    """A stable hash of a JSON body: key order and spacing do not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(conn: asyncpg.Connection, *, user_id: int, key: str, digest: str) -> Claim:
    if await conn.fetchval(Q["claim_key"], user_id, key, digest) is not None:
        return Claim(state=ClaimState.CLAIMED)
    row = await conn.fetchrow(Q["read_key"], user_id, key, RUNNING_LEASE_S)
    if row is None:  # released between our insert and read: try once more
        if await conn.fetchval(Q["claim_key"], user_id, key, digest) is not None:
            return Claim(state=ClaimState.CLAIMED)
        return Claim(state=ClaimState.RUNNING)
    if row["request_hash"] != digest:
        return Claim(state=ClaimState.MISMATCH)
    if row["state"] == "done":
        return Claim(
            state=ClaimState.REPLAY, status=row["response_status"], body=row["response_body"]
        )
    if row["stale"] and await conn.fetchval(Q["take_over_key"], user_id, key, RUNNING_LEASE_S):
        return Claim(state=ClaimState.CLAIMED)
    return Claim(state=ClaimState.RUNNING)


async def release(conn: asyncpg.Connection, *, user_id: int, key: str) -> None:
    await conn.execute(Q["release_key"], user_id, key)


async def purge(conn: asyncpg.Connection) -> str:
    result: str = await conn.execute(Q["purge_keys"], RETENTION_S)
    return result
