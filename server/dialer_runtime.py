"""The live dialer inside the server process: filled in by the live-dialer work."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web


async def dialer_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the pacing loops for running campaigns; stop them on the way out."""
    yield
