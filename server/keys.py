"""Typed application keys: everything the app holds, in one place."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from config.settings import Settings
from server.ws import LiveServices

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
DATABASE_URL = web.AppKey("database_url", str)
LIVE = web.AppKey("live", LiveServices)  # the live desk, the agents' websockets, the dialer
# The caller, set by the auth middleware (None on public routes).
USER = web.RequestKey("user", object)
