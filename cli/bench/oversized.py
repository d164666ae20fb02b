"""`telemart bench oversized`: the server's memory while clients send oversized bodies.

`telemart serve` runs as a child process on a scratch database; its resident memory
(VmRSS, /proc) is sampled while N clients at once POST a body of M MB to the public
tracking webhook and to /login (the unauthenticated routes), and while it is idle before
(the baseline, same run). On 1a94a10 a 200 MB unsigned webhook took the server from 80 to
470 MB, four at once to 940 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from config.scratch import free_port, scratch_database

CHUNK = b"x" * (1 << 20)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


async def _body(mb: int) -> AsyncIterator[bytes]:
    for _ in range(mb):
        yield CHUNK


async def _send(session: aiohttp.ClientSession, url: str, mb: int) -> str:
    headers = {"Content-Type": "application/json", "Content-Length": str(mb << 20)}
    try:
        async with session.post(url, data=_body(mb), headers=headers) as resp:
            await resp.read()
            return str(resp.status)
    except (aiohttp.ClientError, OSError) as exc:  # the server closed on us: refused early
        return type(exc).__name__


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from cli.main import settings_from

    settings = settings_from(args)
    async with scratch_database(settings, migrated=True) as url:
        port = free_port()
        env = {**os.environ, "TELEMART_DATABASE_URL": url, "TELEMART_LOG_LEVEL": "WARNING",
               "TELEMART_TRACKING_SECRETS": '{"telemart": "bench-secret"}'}  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--no-background", env=env, stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(150):
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(base + "/healthz") as resp:
                            if resp.status == 200:
                                break
                    await asyncio.sleep(0.2)
                idle = _rss_mb(proc.pid)
                peak = idle
                results: dict[str, list[str]] = {}
                for path in ("/api/v1/tracking/webhook/telemart", "/login"):
                    sends = [asyncio.create_task(_send(session, base + path, args.mb))
                             for _ in range(args.clients)]  # fmt: skip
                    while not all(s.done() for s in sends):
                        peak = max(peak, _rss_mb(proc.pid))
                        await asyncio.sleep(0.05)
                    results[path] = [s.result() for s in sends]
                after = _rss_mb(proc.pid)
        finally:
            proc.terminate()
            await proc.wait()
    return {"clients": args.clients, "body_mb": args.mb, "rss_idle_mb": round(idle, 1),
            "rss_peak_mb": round(peak, 1), "rss_after_mb": round(after, 1),
            "answers": results}  # fmt: skip


def cmd_bench_oversized(args: argparse.Namespace) -> int:
    print(json.dumps(asyncio.run(_run(args))))
    return 0


def register(bench_sub: Any) -> None:
    """Adds `telemart bench oversized`."""
    p = bench_sub.add_parser("oversized", help="server memory under oversized request bodies")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--mb", type=int, default=200, help="body size each client sends")
    p.set_defaults(func=cmd_bench_oversized)
