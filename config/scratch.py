"""Throwaway databases and server processes, for benchmarks and tests.

A benchmark runs on a fresh database on the configured server (or the embedded one)
and drops it afterwards, so its figures never depend on, or touch, real data.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg

from config.db import connect, database_url
from config.migrations import migrate
from config.settings import Settings

SERVER_START_TIMEOUT_S = 60.0
SERVER_STOP_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at database `name`."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@asynccontextmanager
async def scratch_database(
    settings: Settings, *, prefix: str = "telemart_bench", migrated: bool = False
) -> AsyncIterator[str]:
    """URL of a new database, empty or (`migrated`) with the schema; dropped (even with
    open connections) on the way out."""
    async with database_url(settings) as server_url:
        name = f"{prefix}_{secrets.token_hex(4)}"
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            try:
                url = with_database(server_url, name)
                if migrated:
                    conn = await connect(url)
                    try:
                        await migrate(conn)
                    finally:
                        await conn.close()
                yield url
            finally:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def server_process(
    url: str, *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[str]:
    """`telemart serve` on `url` in a child process (the other core); yields its base URL
    once /healthz answers, and stops it on the way out."""
    port = free_port()
    child_env = {**os.environ, "TELEMART_DATABASE_URL": url, "TELEMART_LOG_LEVEL": "WARNING",
                 **(env or {})}  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port),
        *args, env=child_env, stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session, asyncio.timeout(SERVER_START_TIMEOUT_S):
            while True:
                if proc.returncode is not None:
                    raise RuntimeError(f"the server exited with code {proc.returncode}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(base + "/healthz") as resp:
                        if resp.status == 200:
                            break
                await asyncio.sleep(0.2)
        yield base
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), SERVER_STOP_TIMEOUT_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()
