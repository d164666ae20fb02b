"""Which attempts were recorded, until when they are kept, and their deletion."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re

import asyncpg

from config.sql import load_queries
from dialer.recordings.files import RecordingFiles

Q = load_queries("dialer.recordings", "recordings.sql")
log = logging.getLogger(__name__)

_CALL_ID = re.compile(r"^tm-(\d+)-(\d+)$")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Recording:
    id: int
    attempt_id: int
    campaign_id: int | None
    customer_id: int | None
    name: str
    port: str
    format: str
    duration_s: float
    recorded_at: dt.datetime
    delete_after: dt.datetime
    deleted_at: dt.datetime | None


def attempt_of(call_id: str) -> tuple[int, int] | None:
    """(campaign id, attempt id) from the live dialer's call id `tm-<campaign>-<attempt>`."""
    found = _CALL_ID.match(call_id)
    return (int(found[1]), int(found[2])) if found else None


async def save(
    conn: asyncpg.Connection,
    *,
    call_id: str,
    name: str,
    duration_s: float,
    at: dt.datetime,
    port: str,
    retention_days: int | None = None,
    file_format: str = "wav",
) -> int | None:
    """Keep a finished recording (`events.RecordingDone`) for `retention_days`, by default
    its campaign's (`telephony.recording_retention_days`, at least 90). None when the call
    id is not a dialer attempt's, or the recording was saved already."""
    found = attempt_of(call_id)
    if found is None:
        log.warning("recording %s: call id %r names no attempt; not kept", name, call_id)
        return None
    campaign_id, attempt_id = found
    got: int | None = await conn.fetchval(
        Q["insert_recording"], attempt_id, campaign_id, name, port, file_format,
        float(duration_s), at, retention_days)  # fmt: skip
    return got


def _recording(row: asyncpg.Record) -> Recording:
    return Recording(**{f.name: row[f.name] for f in dataclasses.fields(Recording)})


async def get(conn: asyncpg.Connection, recording_id: int) -> Recording | None:
    row = await conn.fetchrow(Q["get_recording"], recording_id)
    return None if row is None else _recording(row)


async def for_customer(conn: asyncpg.Connection, customer_id: int,
                       limit: int = 100) -> list[Recording]:
    return [_recording(r) for r in await conn.fetch(Q["customer_recordings"], customer_id,
                                                    limit)]


async def delete_due(conn: asyncpg.Connection, files: RecordingFiles, *,
                     now: dt.datetime, limit: int = 500) -> int:
    """Delete the files of recordings past their retention and mark their rows; returns
    how many. A file already gone counts as deleted; one that cannot be deleted now (the
    media server is down) stays due for the next run."""
    done = 0
    async with conn.transaction():
        for row in await conn.fetch(Q["due_for_deletion"], now, limit):
            try:
                await files.delete(row["name"])
            except Exception as exc:  # the next run tries again
                log.warning("recording %s could not be deleted yet: %s", row["name"], exc)
                continue
            await conn.execute(Q["mark_deleted"], row["id"], now)
            done += 1
    return done
