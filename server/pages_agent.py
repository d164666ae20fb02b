"""Routes: filled in by the work that owns them."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
