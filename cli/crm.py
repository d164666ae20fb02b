"""`telemart import customers|dnc FILE` and `telemart customers export FILE`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import signal
import sys
from pathlib import Path
from typing import Any

from crm.errors import ImportFailed
from crm.parse import DEFAULT_BATCH_ROWS, ImportKind


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _progress_bar(path: Path) -> Any:
    """A tqdm bar on stderr when it is a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(
        total=path.stat().st_size, unit="B", unit_scale=True, desc=f"import {path.name}",
        file=sys.stderr,
    )  # fmt: skip


def cmd_import(args: argparse.Namespace) -> int:
    from cli.main import settings_from
    from config.db import open_database
    from crm.importer import import_file

    settings = settings_from(args)
    kind = ImportKind(args.what)
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return 2
    bar = _progress_bar(path)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(min(done, total) - bar.n)

    interrupted = False

    async def run() -> dict[str, Any]:
        # Ctrl-C cancels the import between or inside batches; the batch in flight rolls
        # back. We remember it, so the command says so even if the last batch had already
        # committed when the signal arrived.
        task = asyncio.current_task()
        assert task is not None

        def on_interrupt() -> None:
            nonlocal interrupted
            interrupted = True
            task.cancel()

        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, on_interrupt)
        # Two connections: a customer import writes two batches at a time (crm/importer.py).
        async with (
            open_database(settings) as (_, pool),
            pool.acquire() as conn,
            pool.acquire() as second,
        ):
            summary = await import_file(
                conn, path=path, kind=kind, source=args.source or path.name,
                actor=_actor(), report_dir=Path(args.report_dir or settings.home / "reports"),
                dnc_kind=getattr(args, "kind", "national"), filename=path.name,
                batch_rows=args.batch_size, progress=progress, second=second,
            )  # fmt: skip
            return summary.as_json()

    try:
        result = asyncio.run(run())
    except ImportFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except asyncio.CancelledError:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    if interrupted:
        print(
            "interrupted: every committed batch is complete; run the same import again "
            "to finish (rows already in are updated, never doubled)",
            file=sys.stderr,
        )
        return 130
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(
            f"{result['rows']} rows: {result['imported']} imported, {result['updated']} "
            f"updated, {result['duplicates']} duplicates, {result['invalid']} invalid, "
            f"{result['warnings']} with warnings"
        )
        if result["unknown_columns"]:
            print(f"columns not imported: {', '.join(result['unknown_columns'])}")
        print(f"report: {result['error_report']}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from cli.main import settings_from
    from config.db import open_database
    from crm.customers import export_customers

    settings = settings_from(args)
    path = Path(args.file).resolve()

    async def run() -> int:
        async with open_database(settings) as (_, pool), pool.acquire() as conn:
            return await export_customers(conn, path=path, actor=_actor())

    count = asyncio.run(run())
    if args.json:
        print(json.dumps({"customers": count, "file": str(path)}))
    else:
        print(f"{count} customers written to {path}")
    return 0


def register(sub: Any) -> None:
    imp = sub.add_parser("import", help="import customers or a do-not-call register")
    what = imp.add_subparsers(dest="what", required=True, metavar="WHAT")
    for name, help_text in (
        ("customers", "a customer CSV/TSV (UTF-8, UTF-8 with BOM or CP949/EUC-KR)"),
        ("dnc", "a do-not-call register: a number per line, or a CSV with a phone column"),
    ):
        p = what.add_parser(name, help=help_text)
        p.add_argument("file")
        p.add_argument("--source", help="where the data came from (default: the file name)")
        p.add_argument("--json", action="store_true", help="print the summary as JSON")
        p.add_argument("--report-dir", help="error report folder (default $TELEMART_HOME/reports)")
        p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_ROWS,
                       help="rows per transaction")  # fmt: skip
        if name == "dnc":
            p.add_argument("--kind", choices=("national", "financial", "internal"),
                           default="national")  # fmt: skip
        p.set_defaults(func=cmd_import)

    customers = sub.add_parser("customers", help="customer data")
    csub = customers.add_subparsers(dest="customers_cmd", required=True, metavar="COMMAND")
    p = csub.add_parser("export", help="write every customer to a UTF-8 CSV")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_export)
