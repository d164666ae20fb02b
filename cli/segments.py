"""`telemart rfm refresh` and `telemart segment preview`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from config.db import open_database
from crm.errors import SegmentFilterError
from crm.rfm import refresh_rfm
from crm.segments import preview


def cmd_rfm_refresh(args: argparse.Namespace) -> int:
    from cli.main import settings_from

    async def run() -> None:
        async with open_database(settings_from(args)) as (_, pool):
            async with pool.acquire() as conn:
                done = await refresh_rfm(conn, trigger="cli")
        print(json.dumps(done.as_json()))

    asyncio.run(run())
    return 0


def cmd_segment_preview(args: argparse.Namespace) -> int:
    from cli.main import settings_from

    text = sys.stdin.read() if args.filter == "-" else Path(args.filter).read_text("utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"error: the filter is not JSON: {exc}", file=sys.stderr)
        return 2

    async def run() -> int:
        async with open_database(settings_from(args)) as (_, pool):
            async with pool.acquire() as conn:
                try:
                    result = await preview(conn, filter_doc=doc.get("filter", doc))
                except SegmentFilterError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 2
        print(f"{result.count} customers")
        for c in result.sample:
            print(f"  {c.id:>8}  {c.phone_masked:<18} {c.region or '':<8} {c.name}")
        return 0

    return asyncio.run(run())


def register(sub: Any) -> None:
    rfm = sub.add_parser("rfm", help="RFM scores and the purchase summary behind segments")
    rfm_sub = rfm.add_subparsers(dest="rfm_cmd", required=True)
    p = rfm_sub.add_parser("refresh", help="recompute every customer's R/F/M now")
    p.set_defaults(func=cmd_rfm_refresh)

    seg = sub.add_parser("segment", help="segment filters")
    seg_sub = seg.add_subparsers(dest="segment_cmd", required=True)
    p = seg_sub.add_parser("preview", help="count a filter's customers and show a masked sample")
    p.add_argument("filter", help="JSON file with the filter document ('-' reads stdin)")
    p.set_defaults(func=cmd_segment_preview)
