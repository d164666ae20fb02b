"""`telemart demo` as a newcomer runs it: it comes up, calls reach the bots, orders
flow, Ctrl-C stops it cleanly (twice too), and a second run carries on with the same data."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

import aiohttp

from config.db import connect
from config.scratch import free_port

STARTUP_TIMEOUT_S = 120
ACTIVITY_TIMEOUT_S = 90



async def _start(db_url: str, port: int) -> asyncio.subprocess.Process:
    env = {**os.environ, "TELEMART_DATABASE_URL": db_url, "TELEMART_DEMO_PASSWORD": "demo-pw-1"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "demo", "--port", str(port), "--agents", "4",
        "--customers", "3000", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def _wait_up(port: int) -> None:
    async with aiohttp.ClientSession() as session, asyncio.timeout(STARTUP_TIMEOUT_S):
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)


async def _stop(proc: asyncio.subprocess.Process, *, impatient: bool = False) -> str:
    proc.send_signal(signal.SIGINT)
    if impatient:  # Ctrl-C again while it stops (which takes a second or two)
        await asyncio.sleep(0.3)
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, out.decode()
    return out.decode()


async def test_demo_runs_stops_and_continues(db_url: str) -> None:
    port = free_port()
    proc = await _start(db_url, port)
    try:
        await _wait_up(port)
        conn = await connect(db_url)
        try:
            async with asyncio.timeout(ACTIVITY_TIMEOUT_S):
                # Another process writes the rows: polling is the only way to see them.
                connected = 0
                while not connected:
                    await asyncio.sleep(0.5)
                    connected = await conn.fetchval(
                        "SELECT count(*) FROM call_journeys WHERE agent_connected_at IS NOT NULL"
                    )
            customers = await conn.fetchval("SELECT count(*) FROM customers")
            campaign = await conn.fetchrow("SELECT status FROM campaigns")
            logins = await conn.fetchval("SELECT count(*) FROM users")
        finally:
            await conn.close()
    finally:
        if proc.returncode is None:
            first_output = await _stop(proc)
    assert customers == 3000
    assert campaign["status"] == "running"
    assert logins == 4 + 1 + 4  # admin..logistics, agent01 for a person, 4 bots
    assert "seeded a company" in first_output
    assert "password for every login: demo-pw-1" in first_output
    assert "Traceback" not in first_output

    proc = await _start(db_url, port)
    try:
        await _wait_up(port)
    finally:
        second_output = await _stop(proc, impatient=True)
    assert "seeded a company" not in second_output
    assert "stopping ..." in second_output
    assert "Traceback" not in second_output
    conn = await connect(db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM customers") == 3000
    finally:
        await conn.close()
