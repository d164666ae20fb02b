"""`telemart logistics relay` and `telemart logistics poll`."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from typing import Any

from config.db import open_database


def cmd_relay(args: argparse.Namespace) -> int:
    from cli.main import settings_from
    from logistics.relay import relay_all

    async def run() -> None:
        async with open_database(settings_from(args)) as (_, pool), pool.acquire() as conn:
            result = await relay_all(conn, limit=args.batch)
        print(json.dumps(asdict(result)))

    asyncio.run(run())
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from cli.main import settings_from
    from logistics.polling import default_config, poll_once

    async def run() -> None:
        config = default_config(speed=args.speed)
        config.batch = args.batch
        async with open_database(settings_from(args)) as (_, pool), pool.acquire() as conn:
            async with conn.transaction():
                result = await poll_once(conn, config=config)
        print(json.dumps(asdict(result)))

    asyncio.run(run())
    return 0


def register(sub: Any) -> None:
    logistics = sub.add_parser("logistics", help="shipments: outbox relay, carrier polling")
    cmds = logistics.add_subparsers(dest="logistics_cmd", required=True)
    p = cmds.add_parser("relay", help="turn paid orders in the outbox into shipments, once")
    p.add_argument("--batch", type=int, default=200, help="outbox rows per transaction")
    p.set_defaults(func=cmd_relay)
    p = cmds.add_parser("poll", help="ask carriers without push about due shipments, once")
    p.add_argument("--batch", type=int, default=200, help="shipments per run")
    p.add_argument("--speed", type=float, default=1.0, help="simulated carrier time factor")
    p.set_defaults(func=cmd_poll)
