"""CRM API: customer and do-not-call imports, customers."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
