"""A periodic job as a domain declares it; `server/jobs.py` schedules them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

JobBody = Callable[[asyncpg.Connection], Awaitable[object]]


@dataclass(frozen=True, kw_only=True)
class Job:
    """Runs every `every_s` seconds, once per cluster (under an advisory lock)."""

    name: str
    every_s: float
    body: JobBody
