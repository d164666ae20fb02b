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
from typing import Any

from config.db import open_database
from config.logging import setup_logging
from config.settings import Settings, load_settings
from server.auth import (
    Role,
    UserExists,
    UserNotFound,
    create_user,
    list_users,
    revoke_user,
    set_disabled,
    set_password,
    set_role,
)

log = logging.getLogger(__name__)
MIN_PASSWORD = 8

# Each module has `register(subparsers)` adding its commands; handlers are
# `func(args) -> int` set with set_defaults.
COMMAND_MODULES = (
    "cli.serve",
    "cli.crm",
    "cli.orders",
    "cli.segments",
    "cli.logistics",
    "cli.dialer",
    "cli.i18n",
    "cli.prompts",
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
    "cli.bench.login_storm",
    "cli.bench.oversized",
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
    if len(password) < MIN_PASSWORD:
        print(f"error: password must have at least {MIN_PASSWORD} characters", file=sys.stderr)
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


def _user_change(args: argparse.Namespace, change: Any) -> int:
    """Run `change(conn)` on the database; a missing user is exit code 1."""

    async def run() -> int:
        async with open_database(settings_from(args)) as (_, pool):
            async with pool.acquire() as conn:
                try:
                    message = await change(conn)
                except UserNotFound as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
        print(message)
        return 0

    return asyncio.run(run())


def cmd_user_list(args: argparse.Namespace) -> int:
    async def change(conn: Any) -> str:
        rows = await list_users(conn)
        lines = [f"{'user':<20} {'role':<11} {'state':<9} {'tokens':>6}  last seen"]
        for r in rows:
            seen = r["last_seen_at"].isoformat(timespec="seconds") if r["last_seen_at"] else "-"
            state = "disabled" if r["disabled"] else "active"
            lines.append(f"{r['username']:<20} {r['role']:<11} {state:<9} {r['tokens']:>6}  {seen}")
        return "\n".join(lines)

    return _user_change(args, change)


def cmd_user_disable(args: argparse.Namespace) -> int:
    disabled = args.user_cmd == "disable"

    async def change(conn: Any) -> str:
        user = await set_disabled(conn, username=args.name, disabled=disabled)
        what = "disabled, its sessions and tokens revoked" if disabled else "enabled"
        return f"user {user.username} {what}"

    return _user_change(args, change)


def cmd_user_set_password(args: argparse.Namespace) -> int:
    password = _read_password()
    if len(password) < MIN_PASSWORD:
        print(f"error: password must have at least {MIN_PASSWORD} characters", file=sys.stderr)
        return 2

    async def change(conn: Any) -> str:
        user = await set_password(conn, username=args.name, password=password)
        return f"user {user.username}: password changed, its sessions and tokens revoked"

    return _user_change(args, change)


def cmd_user_set_role(args: argparse.Namespace) -> int:
    async def change(conn: Any) -> str:
        user = await set_role(conn, username=args.name, role=Role(args.role))
        return f"user {user.username} is now {user.role.value}, its sessions and tokens revoked"

    return _user_change(args, change)


def cmd_user_revoke(args: argparse.Namespace) -> int:
    async def change(conn: Any) -> str:
        user = await revoke_user(conn, username=args.name)
        return f"user {user.username}: every session and API token revoked"

    return _user_change(args, change)


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
    p = user.add_parser("list", help="users, their roles, live tokens and last use")
    p.set_defaults(func=cmd_user_list)
    for name, text in (("disable", "disable a user and revoke its sessions and tokens"),
                       ("enable", "enable a disabled user")):
        p = user.add_parser(name, help=text)
        p.add_argument("name")
        p.set_defaults(func=cmd_user_disable)
    p = user.add_parser("set-password", help="change a password (revokes sessions and tokens)")
    p.add_argument("name")
    p.set_defaults(func=cmd_user_set_password)
    p = user.add_parser("set-role", help="change a role (revokes sessions and tokens)")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.set_defaults(func=cmd_user_set_role)
    p = user.add_parser("revoke", help="end every session and API token of a user now")
    p.add_argument("name")
    p.set_defaults(func=cmd_user_revoke)

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
