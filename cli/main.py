"""The `telemart` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from config.db import open_database
from config.logging import setup_logging
from config.settings import Settings, load_settings
from server.auth import Role, UserExists, create_user

log = logging.getLogger(__name__)

# Each module has `register(subparsers)` adding its commands; handlers are
# `func(args) -> int` set with set_defaults.
COMMAND_MODULES = (
    "cli.serve",
    "cli.crm",
    "cli.orders",
    "cli.segments",
    "cli.logistics",
    "cli.dialer",
)
BENCH_MODULES = (
    "cli.bench.pacing",
    "cli.bench.import_customers",
    "cli.bench.segment",
    "cli.bench.orders",
    "cli.bench.tracking",
    "cli.bench.connect",
    "cli.bench.live_pacing",
    "cli.bench.telephony",
    "cli.bench.amd",
    "cli.bench.blended",
)


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None))


def _read_password(prompt: str = "Password: ") -> str:
    password = os.environ.get("TELEMART_USER_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise SystemExit("no terminal to ask for a password: set TELEMART_USER_PASSWORD")
    first = getpass.getpass(prompt)
    if first != getpass.getpass("Again: "):
        raise SystemExit("passwords differ")
    return first


def cmd_migrate(args: argparse.Namespace) -> int:
    async def run() -> None:
        from config.migrations import migrate

        async with open_database(settings_from(args), run_migrations=False) as (_, pool):
            async with pool.acquire() as conn:
                applied = await migrate(conn)
        print(f"applied {len(applied)} migration(s)" if applied else "database is up to date")

    asyncio.run(run())
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    password = _read_password()
    if len(password) < 8:
        print("error: password must have at least 8 characters", file=sys.stderr)
        return 2

    async def run() -> int:
        async with open_database(settings_from(args)) as (_, pool):
            async with pool.acquire() as conn:
                try:
                    user = await create_user(
                        conn, username=args.name, password=password, role=Role(args.role),
                        replace=args.update,
                    )  # fmt: skip
                except UserExists as exc:
                    print(f"error: {exc} (use --update to change it)", file=sys.stderr)
                    return 1
        print(f"user {user.username} ({user.role.value}) saved")
        return 0

    return asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="telemart", description="Outbound telemarketing and home-shopping order engine."
    )
    parser.add_argument("--config", help="TOML settings file (TELEMART_* variables win)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("migrate", help="apply database migrations (idempotent)")
    p.set_defaults(func=cmd_migrate)

    user = sub.add_parser("user", help="manage users").add_subparsers(
        dest="user_cmd", required=True
    )
    p = user.add_parser("add", help="add a user (password from a prompt or TELEMART_USER_PASSWORD)")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--update", action="store_true", help="change an existing user's password/role")
    p.set_defaults(func=cmd_user_add)

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)

    bench = sub.add_parser("bench", help="benchmarks; each prints one JSON object last")
    bench_sub = bench.add_subparsers(dest="bench", required=True, metavar="BENCH")
    for name in BENCH_MODULES:
        importlib.import_module(name).register(bench_sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(os.environ.get("TELEMART_LOG_LEVEL", "WARNING"))
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
