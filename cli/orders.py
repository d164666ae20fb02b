"""`telemart stock ...` and `telemart catalog import`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from config.db import open_database
from logistics import stock
from logistics.errors import LogisticsError
from orders.catalog import create_product
from orders.errors import OrdersError

CLI_ACTOR = "cli"


def _sku(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _print_row(row: stock.StockRow, verb: str) -> None:
    print(
        f"{verb}: stock #{row.id} sku {row.sku_id} on hand {row.on_hand}, "
        f"reserved {row.reserved}, available {row.available}"
    )


def cmd_receive(args: argparse.Namespace) -> int:
    from cli.main import settings_from

    async def run() -> int:
        async with open_database(settings_from(args)) as (_, pool):
            async with pool.acquire() as conn, conn.transaction():
                row = await stock.receive(
                    conn,
                    sku=_sku(args.sku),
                    qty=args.qty,
                    actor=CLI_ACTOR,
                    warehouse_code=args.warehouse,
                    reason=args.reason,
                )
        _print_row(row, "received")
        return 0

    return _domain_errors(run)


def cmd_adjust(args: argparse.Namespace) -> int:
    from cli.main import settings_from

    async def run() -> int:
        async with open_database(settings_from(args)) as (_, pool):
            async with pool.acquire() as conn, conn.transaction():
                row = await stock.adjust(
                    conn,
                    sku=_sku(args.sku),
                    delta=args.delta,
                    reason=args.reason,
                    actor=CLI_ACTOR,
                    warehouse_code=args.warehouse,
                )
        _print_row(row, "adjusted")
        return 0

    return _domain_errors(run)


def cmd_check(args: argparse.Namespace) -> int:
    from cli.main import settings_from

    async def run() -> int:
        async with open_database(settings_from(args)) as (_, pool):
            async with pool.acquire() as conn:
                result = await stock.check(conn)
        if args.json:
            print(
                json.dumps(
                    {
                        "ok": result.ok,
                        "rows_checked": result.rows_checked,
                        "mismatches": [asdict(m) for m in result.mismatches],
                    }
                )
            )
        else:
            for m in result.mismatches:
                print(
                    f"stock #{m.stock_id} (sku {m.sku_id}): on hand {m.on_hand} vs ledger "
                    f"{m.ledger_on_hand}, reserved {m.reserved} vs ledger {m.ledger_reserved}"
                )
            verdict = "counters equal the ledger" if result.ok else "MISMATCH"
            print(f"{verdict}: {result.rows_checked} stock row(s) checked")
        return 0 if result.ok else 1

    return asyncio.run(run())


def cmd_catalog_import(args: argparse.Namespace) -> int:
    from cli.main import settings_from
    from orders.schemas import ProductIn

    try:
        raw = json.loads(Path(args.file).read_text(encoding="utf-8"))
        items = raw["products"] if isinstance(raw, dict) else raw
        products = TypeAdapter(list[ProductIn]).validate_python(items)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            print(f"error: {args.file}: {where}: {first['msg']}", file=sys.stderr)
        else:
            print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2

    async def run() -> int:
        async with open_database(settings_from(args)) as (_, pool):
            async with pool.acquire() as conn, conn.transaction():  # all or nothing
                for product in products:
                    await create_product(conn, spec=product.spec())
        print(f"imported {len(products)} product(s)")
        return 0

    return _domain_errors(run)


def _domain_errors(run: Any) -> int:
    try:
        return int(asyncio.run(run()))
    except (LogisticsError, OrdersError) as exc:
        field = f" ({exc.field})" if exc.field else ""
        print(f"error{field}: {exc}", file=sys.stderr)
        return 1


def register(sub: Any) -> None:
    """Adds `telemart stock` and `telemart catalog`."""
    cmds = sub.add_parser("stock", help="receive, adjust and check stock").add_subparsers(
        dest="stock_cmd", required=True
    )
    p = cmds.add_parser("receive", help="goods arrived: on hand += QTY")
    p.add_argument("sku", help="SKU code or id")
    p.add_argument("qty", type=int)
    p.add_argument("--warehouse", help="warehouse code (default: MAIN)")
    p.add_argument("--reason")
    p.set_defaults(func=cmd_receive)

    p = cmds.add_parser("adjust", help="a count found more or fewer: on hand += DELTA")
    p.add_argument("sku", help="SKU code or id")
    p.add_argument("delta", type=int, help="signed, e.g. -3")
    p.add_argument("--reason", required=True)
    p.add_argument("--warehouse", help="warehouse code (default: MAIN)")
    p.set_defaults(func=cmd_adjust)

    p = cmds.add_parser("check", help="prove counters == ledger (exit 1 on a mismatch)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

    cat = sub.add_parser("catalog", help="the product catalog").add_subparsers(
        dest="catalog_cmd", required=True
    )
    p = cat.add_parser("import", help="create products from a JSON file (all or nothing)")
    p.add_argument("file", help='a list of products, or {"products": [...]}, as the API takes')
    p.set_defaults(func=cmd_catalog_import)
