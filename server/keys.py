"""Typed application keys: everything the app holds, in one place."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from config.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
DATABASE_URL = web.AppKey("database_url", str)
# The caller, set by the auth middleware (None on public routes).
USER = web.RequestKey("user", object)
