"""The retention job: recordings past their campaign's retention are deleted hourly."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

from config.jobs import Job
from dialer.recordings import store
from dialer.recordings.files import recording_files
from dialer.telephony.events import utcnow

if TYPE_CHECKING:
    from config.settings import Settings

RETENTION_EVERY_S = 3600.0


def jobs(settings: Settings) -> list[Job]:
    async def delete_expired(conn: asyncpg.Connection) -> int:
        async with recording_files(settings) as files:
            return await store.delete_due(conn, files, now=utcnow())

    return [Job(name="dialer.recordings_retention", every_s=RETENTION_EVERY_S,
                body=delete_expired)]
