"""`telemart dialer`: the live dialer without the web server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from dialer.live.desk import LiveDesk
from dialer.recordings.files import sim_folder
from dialer.telephony import open_port
from dialer.telephony.port import AmdMode

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "dialer",
        help="run the live dialer (pacing loops for running campaigns) without the web server",
        description="Runs one pacing loop per running campaign that no other dialer process "
        "holds (advisory-lock election). Agents connect through `telemart serve`; "
        "--sim-agents logs in simulated agents here instead.",
    )
    p.add_argument("--seed", type=int, help="sim carrier seed (TELEMART_SIM_SEED)")
    p.add_argument(
        "--time-scale",
        type=float,
        help="sim carrier: multiply every delay by this (TELEMART_SIM_TIME_SCALE)",
    )
    p.add_argument(
        "--lease-seconds",
        type=float,
        help="lead lease and call heartbeat (TELEMART_DIALER_LEASE_S, 60)",
    )
    p.add_argument("--tick", type=float, help="pacing tick in seconds (TELEMART_DIALER_TICK_S)")
    p.add_argument(
        "--scan",
        type=float,
        help="look for campaigns to take on this often (TELEMART_DIALER_SCAN_S)",
    )
    p.add_argument(
        "--sim-agents", type=int, default=0, help="log in this many simulated agents on --campaign"
    )
    p.add_argument("--campaign", type=int, help="campaign id for --sim-agents")
    p.add_argument("--owner", help="lease owner name (default host:pid:random)")
    p.set_defaults(func=cmd_dialer)


def cmd_dialer(args: argparse.Namespace) -> int:
    from cli import event_loop
    from cli.gc_tuning import tune_gc
    from cli.main import settings_from
    from cli.serve import check_telephony
    from config.db import open_database
    from dialer.live.bus import Bus, LocalBus
    from dialer.live.nats_bus import NatsBus, NatsUnreachable
    from dialer.live.sim_agents import SimulatedAgents
    from server.dialer_runtime import make_runtime

    if args.sim_agents and not args.campaign:
        raise SystemExit("--sim-agents needs --campaign")
    settings = settings_from(args)
    check_telephony(settings)  # a wrong ARI URL or password: say which setting
    tune_gc()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Event loops without signal support (Windows) raise this: Ctrl-C still stops us.
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with open_database(settings) as (url, pool):
            seed = settings.sim_seed if args.seed is None else args.seed
            scale = settings.sim_time_scale if args.time_scale is None else args.time_scale
            sim = {"seed": seed, "time_scale": scale, "recordings_dir": sim_folder(settings)}
            port = open_port(settings, **(sim if settings.telephony == "sim" else {}))
            bus: Bus = NatsBus(settings.nats_url) if settings.nats_url else LocalBus()
            try:
                await bus.open()
            except NatsUnreachable as exc:
                raise SystemExit(f"error: the NATS bus does not answer: {exc}") from None
            if not bus.spans_nodes and not args.sim_agents:
                print(
                    "warning: no TELEMART_NATS_URL: agents on web nodes cannot reach this "
                    "process, so it runs no campaign (only --sim-agents ones)",
                    file=sys.stderr,
                    flush=True,
                )
            runtime = make_runtime(
                pool=pool, url=url, desk=LiveDesk(), port=port, bus=bus,
                tick_s=args.tick or settings.dialer_tick_s,
                scan_s=args.scan or settings.dialer_scan_s,
                lease_s=args.lease_seconds or settings.dialer_lease_s, owner=args.owner,
                time_scale=scale if settings.telephony == "sim" else 1.0,
                **({} if settings.telephony == "sim" else {"amd": AmdMode.OFF}),
            )  # fmt: skip
            agents = None
            if args.sim_agents:
                agents = SimulatedAgents(
                    runtime,
                    count=args.sim_agents,
                    campaign_id=args.campaign,
                    seed=seed,
                    time_scale=scale,
                )
                agents.log_in()
            async with runtime:
                print(f"dialer {runtime.owner} running; Ctrl-C stops it", flush=True)
                await stop.wait()
            if agents is not None:
                await agents.stop()
            await bus.close()

    event_loop.run(run())
    return 0
