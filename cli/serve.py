"""`telemart serve` and `telemart demo`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from cli.event_loop import new_event_loop
from cli.gc_tuning import tune_gc
from config.settings import Settings
from server.app import create_app
from server.auth import Role, create_user
from server.keys import POOL

DEMO_USERS: tuple[tuple[str, Role], ...] = (
    ("admin", Role.ADMIN),
    ("supervisor", Role.SUPERVISOR),
    ("marketer", Role.MARKETER),
    ("logistics", Role.LOGISTICS),
)


def stop_patiently(app: web.Application) -> None:
    """Say when stopping begins, and keep a second Ctrl-C from breaking off the shutdown
    halfway (aiohttp's handler would raise again inside the cleanup, which then tears down
    the pool and the embedded database out of order, with a traceback and exit code 1).
    Stopping takes a second or two."""

    async def on_shutdown(_: web.Application) -> None:
        print("stopping ...", flush=True)
        # Replaces aiohttp's handler, which would raise GracefulExit inside the cleanup. Set
        # on the process, not the loop: the runner's cleanup and the loop's closing put the
        # default handler back, and a Ctrl-C in the last moments of a clean stop then killed
        # the process (exit -2, test_demo_runs_stops_and_continues).
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, lambda *_: print("still stopping ...", flush=True))

    app.on_shutdown.insert(0, on_shutdown)


def stopped() -> None:
    """After `web.run_app` returns: Ctrl-C is ignored from here on. The interpreter's
    finalisation puts the default handler back in place of a Python one, and a Ctrl-C
    then would turn the clean stop into a kill (exit -2)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def cmd_serve(args: argparse.Namespace) -> int:
    from cli.main import settings_from

    settings = settings_from(args)
    host = args.host or settings.host
    port = args.port or settings.port
    check_bus(settings)
    check_telephony(settings)
    tune_gc()
    app = create_app(settings, background=not args.no_background)
    stop_patiently(app)
    web.run_app(
        app, host=host, port=port, loop=new_event_loop(),
        print=lambda _: print(f"Telemart on http://{host}:{port}/"),
    )  # fmt: skip
    stopped()
    return 0


def check_bus(settings: Settings) -> None:
    """A NATS URL that does not answer stops the start, saying so (not a traceback)."""
    if not settings.nats_url:
        return
    from dialer.live.nats_bus import NatsUnreachable, probe

    try:
        asyncio.run(probe(settings.nats_url))
    except NatsUnreachable as exc:
        raise SystemExit(
            f"error: the NATS bus (TELEMART_NATS_URL) does not answer: {exc}"
        ) from None


def check_telephony(settings: Settings) -> None:
    """A wrong ARI URL or password stops the start, naming the setting (issue 14)."""
    if settings.telephony != "ari" or not settings.dialer_enabled:
        return
    from dialer.errors import TelephonyConfigError
    from dialer.telephony.ari import probe

    try:
        asyncio.run(probe(settings))
    except TelephonyConfigError as exc:
        raise SystemExit(f"error: {exc}") from None


def demo_users(agents: int) -> list[tuple[str, Role]]:
    """The people's logins, then agent01 for a person and agent02... for the bots."""
    return [*DEMO_USERS, *((f"agent{i:02d}", Role.AGENT) for i in range(1, agents + 2))]


def cmd_demo(args: argparse.Namespace) -> int:
    from cli.demo import DemoOptions, DemoRunner, demo_password
    from cli.main import settings_from

    settings = settings_from(args)
    port = args.port or settings.port
    host = settings.host
    password, kept_in = demo_password(settings.home)
    users = demo_users(args.agents)
    bots = [name for name, _ in users[len(DEMO_USERS) + 1 :]]

    async def seed_users(app: web.Application) -> AsyncIterator[None]:
        async with app[POOL].acquire() as conn:
            for name, role in users:
                # replace=True: a rerun keeps the data and prints working logins.
                await create_user(conn, username=name, password=password, role=role, replace=True)
        yield

    def announce(_: Any) -> None:
        print(f"Telemart demo on http://{host}:{port}/")
        print(f"  password for every login: {password}   (kept in {kept_in})")
        for name, role in DEMO_USERS:
            print(f"    {name:<12} {role.value}")
        print("    agent01      agent: yours, take calls among the bots")
        print(f"  {len(bots)} simulated agents ({bots[0]}..{bots[-1]}) are taking calls.")
        print(f"  Wallboard: http://{host}:{port}/wallboard   Ctrl-C stops everything.")

    options = DemoOptions(
        base_url=f"http://{host}:{port}", agents=args.agents, customers=args.customers,
        history_orders=args.customers * 12 // 5,
    )  # fmt: skip
    runner = DemoRunner(options, bots)
    tune_gc()
    app = create_app(settings, extra_ctx=[seed_users, runner.ctx])
    app.on_shutdown.append(runner.shutdown)
    stop_patiently(app)
    web.run_app(app, host=host, port=port, loop=new_event_loop(), print=announce)
    stopped()
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the web server (and the dialer, and periodic jobs)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--no-background", action="store_true", help="no dialer or scheduler")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="a working call centre on the embedded database")
    p.add_argument("--port", type=int)
    p.add_argument("--agents", type=int, default=20, help="simulated agents")
    p.add_argument(
        "--customers", type=int, default=50_000, help="customers to seed on the first run"
    )
    p.set_defaults(func=cmd_demo)
