"""`telemart bench telephony`: calls through the ARI driver at a steady rate, customers
that answer at once, agents on live lines.

Against the ARI fake (`tests/fakes/ari.py`, in a process of its own) by default, or a
real Asterisk with `--ari-url`. Telemart's side is the real one: the ARI port, and the
live desk routing each answer to the longest-idle ready agent, whose phone leg waits in
its holding bridge. Each call talks `--talk-s`, then the dialer hangs up and the agent is
ready again.

Measured: calls per second sustained (bridged calls over the dialling time) and the
latency Telemart adds from the answer event (the websocket message in) to the bridge
command (the REST request out), p50/p99/p999. Baseline in the same run: a bare ARI client
on the same server and rate that sends the bridge command straight from the raw event
(no port, no desk), so the difference is what Telemart's layers cost.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from dialer.live.desk import LiveDesk
from dialer.live.outcomes import DispositionEntry
from dialer.telephony import events as ev
from dialer.telephony.ari import AriPort, AriSettings
from dialer.telephony.port import SAFE_HARBOR, Originate

CAMPAIGN = 1
CONNECT_WINDOW_S = 2.0
REPO = Path(__file__).resolve().parents[2]


def register(bench_sub: Any) -> None:
    p = bench_sub.add_parser("telephony", help="calls/s and answer-to-bridge latency (ARI)")
    p.add_argument("--ari-url", help="a real Asterisk's ARI (default: the ARI fake)")
    p.add_argument("--ari-user", default="telemart")
    p.add_argument("--ari-password", default="secret")
    p.add_argument("--app", default="telemart-bench", help="Stasis application name")
    p.add_argument("--rate", type=float, default=50.0, help="calls placed per second")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of dialling")
    p.add_argument("--talk-s", type=float, default=1.0, help="each call's talk time")
    p.add_argument("--agents", type=int, default=0, help="default: enough for the rate")
    p.add_argument("--dial-template", default="PJSIP/{number}@carrier")
    p.add_argument("--agent-endpoint", default="PJSIP/{extension}",
                   help="{extension} is agent<N>; Asterisk must know them")
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--json", action="store_true", help="print only the JSON line")
    p.set_defaults(func=cmd_bench_telephony)


def _pct(values: list[float]) -> dict[str, float | None]:
    def q(p: float) -> float | None:
        if not values:
            return None
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 3)

    return {"p50": q(0.50), "p99": q(0.99), "p999": q(0.999)}


@contextlib.asynccontextmanager
async def ari_fake() -> AsyncIterator[str]:
    """The ARI fake in a child process (so it does not share our event loop)."""
    if not (REPO / "tests" / "fakes" / "ari.py").exists():
        raise SystemExit("the ARI fake ships with the source tree (tests/fakes/ari.py): "
                         "run from a checkout, or give --ari-url")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.ari", "--port", "0", cwd=REPO,
        stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(20):
            url = (await proc.stdout.readline()).decode().strip()
        if not url.startswith("http"):
            raise SystemExit("the ARI fake did not start")
        yield url
    finally:
        proc.terminate()
        with contextlib.suppress(ProcessLookupError):
            await proc.wait()


@dataclasses.dataclass(kw_only=True)
class Run:
    placed: int = 0
    bridged: int = 0
    failed: int = 0
    answer_to_bridge: list[float] = dataclasses.field(default_factory=list)
    add_to_bridge: list[float] = dataclasses.field(default_factory=list)
    originate_to_answer: list[float] = dataclasses.field(default_factory=list)
    dial_s: float = 0.0

    def report(self) -> dict[str, Any]:
        return {
            "calls": self.bridged, "placed": self.placed, "failed": self.failed,
            "calls_per_s": round(self.bridged / self.dial_s, 2) if self.dial_s else 0.0,
            "answer_to_bridge_ms": _pct(self.answer_to_bridge),
            "add_to_bridge_ms": _pct(self.add_to_bridge),
            "originate_to_answer_ms": _pct(self.originate_to_answer),
        }  # fmt: skip


async def _pace(rate: float, duration: float, place: Any) -> float:
    """Call `place(n)` at `rate` per second for `duration`; returns the time it took."""
    start = time.perf_counter()
    n = 0
    while (due := start + n / rate) < start + duration:
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await place(n)
        n += 1
    return time.perf_counter() - start


async def telemart_run(args: argparse.Namespace, url: str, agents: int) -> Run:
    """The driver and the live desk, as the dialer uses them."""
    run = Run()
    desk = LiveDesk()
    originated: dict[str, float] = {}
    talking: set[asyncio.Task[None]] = set()  # kept until done (not garbage-collected)
    legs_up = asyncio.Event()
    up: set[int] = set()
    live: set[str] = set()  # placed, not hung up yet
    drained = asyncio.Event()

    def observe(name: str, seconds: float) -> None:
        (run.answer_to_bridge if name == "answer_to_bridge" else run.add_to_bridge).append(
            seconds)

    port = AriPort(AriSettings(url=url, user=args.ari_user, password=args.ari_password,
                               app=args.app, dial_template=args.dial_template,
                               agent_endpoint=args.agent_endpoint,
                               trunk_lines=10 * agents + 100), observe=observe)

    async def connect(call_id: str, attempt: int) -> None:
        agent = desk.route(CAMPAIGN, attempt)
        if agent is None:
            desk.stop_waiting(CAMPAIGN, attempt)
            run.failed += 1
            await port.play(call_id, SAFE_HARBOR)
            await port.hangup(call_id)
            return
        await port.bridge(call_id, agent_id=agent.agent_id)
        desk.connect(agent, attempt_id=attempt, campaign_id=CAMPAIGN, pop={})
        run.bridged += 1
        await asyncio.sleep(args.talk_s)
        await port.hangup(call_id)
        desk.hangup(agent.agent_id, attempt)
        desk.dispose(DispositionEntry(code="sale", agent_id=agent.agent_id), attempt_id=attempt)

    def sink(event: ev.PortEvent) -> None:
        if isinstance(event, ev.Answered):
            started = originated.pop(event.call_id, None)
            if started is not None:
                run.originate_to_answer.append(time.perf_counter() - started)
            attempt = int(event.call_id.rsplit("-a", 1)[1])
            task = asyncio.create_task(connect(event.call_id, attempt), name=event.call_id)
            talking.add(task)
            task.add_done_callback(talking.discard)
        elif isinstance(event, ev.HungUp):
            if originated.pop(event.call_id, None) is not None:
                run.failed += 1  # ended before it answered
            live.discard(event.call_id)
            if not live and run.dial_s:
                drained.set()
        elif isinstance(event, ev.BridgeFailed):
            run.failed += 1
        elif isinstance(event, ev.AgentLegUp):
            up.add(event.agent_id)
            desk.leg_up(event.agent_id)
            desk.ready(event.agent_id, campaign_id=CAMPAIGN)
            if len(up) == agents:
                legs_up.set()

    await port.open(sink)
    try:
        for agent_id in range(1, agents + 1):
            desk.attach(agent_id, f"agent{agent_id}")
            await port.attach_agent(agent_id, endpoint=f"agent{agent_id}")
        async with asyncio.timeout(30):
            await legs_up.wait()

        async def place(n: int) -> None:
            call_id = f"tm-bench-a{n}"
            originated[call_id] = time.perf_counter()
            live.add(call_id)
            run.placed += 1
            task = asyncio.create_task(port.originate(Originate(
                call_id=call_id, phone_e164=f"+8210{n:08d}", max_ring_s=20.0)))
            talking.add(task)  # the pace does not wait for Asterisk's answer to the request
            task.add_done_callback(talking.discard)

        run.dial_s = await _pace(args.rate, args.duration, place)
        if not live:
            drained.set()
        async with asyncio.timeout(args.talk_s + 10):
            await drained.wait()
    finally:
        await port.close()
    return run


async def bare_run(args: argparse.Namespace, url: str) -> Run:
    """Baseline: raw events in, the bridge command out, nothing in between."""
    run = Run()
    app = f"{args.app}-bare"
    base = url.rstrip("/")
    ws_url = base.replace("http", "ws", 1) + "/events"
    token = base64.b64encode(f"{args.ari_user}:{args.ari_password}".encode()).decode()
    live: set[str] = set()
    tasks: set[asyncio.Task[None]] = set()
    drained = asyncio.Event()
    async with aiohttp.ClientSession(headers={"Authorization": f"Basic {token}"}) as http:
        bridges = [f"tm-bare-{i}" for i in range(8)]
        for bridge in bridges:
            async with http.post(f"{base}/bridges/{bridge}", params={"type": "mixing"}):
                pass

        async def bridge_and_end(call_id: str, received: float) -> None:
            run.answer_to_bridge.append(time.perf_counter() - received)
            sent = time.perf_counter()
            async with http.post(f"{base}/bridges/{bridges[hash(call_id) % 8]}/addChannel",
                                 params={"channel": call_id}) as resp:
                ok = resp.status < 300
            run.add_to_bridge.append(time.perf_counter() - sent)
            run.bridged += ok
            run.failed += not ok
            await asyncio.sleep(args.talk_s)
            async with http.delete(f"{base}/channels/{call_id}"):
                pass

        async def read(ws: aiohttp.ClientWebSocketResponse) -> None:
            async for msg in ws:
                received = time.perf_counter()
                event = json.loads(msg.data)
                kind = event.get("type")
                if kind == "ChannelDestroyed":
                    live.discard(event["channel"]["id"])
                    if not live and run.dial_s:
                        drained.set()
                elif kind == "StasisStart":
                    call_id = event["channel"]["id"]
                    task = asyncio.create_task(bridge_and_end(call_id, received))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)

        async with http.ws_connect(ws_url, params={"app": app}) as ws:
            reader = asyncio.create_task(read(ws))

            async def originate(call_id: str, n: int) -> None:
                async with http.post(f"{base}/channels/{call_id}", params={
                    "endpoint": args.dial_template.format(number=f"8210{n:08d}"),
                    "app": app, "appArgs": "dial", "timeout": "20"}):
                    pass

            async def place(n: int) -> None:
                call_id = f"tm-bare-a{n}"
                live.add(call_id)
                run.placed += 1
                task = asyncio.create_task(originate(call_id, n))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

            run.dial_s = await _pace(args.rate, args.duration, place)
            if not live:
                drained.set()
            async with asyncio.timeout(args.talk_s + 10):
                await drained.wait()
            reader.cancel()
        for bridge in bridges:
            async with http.delete(f"{base}/bridges/{bridge}"):
                pass
    return run


def cmd_bench_telephony(args: argparse.Namespace) -> int:
    agents = args.agents or int(args.rate * (args.talk_s + 0.5) * 1.5) + 5

    async def main() -> dict[str, Any]:
        async with contextlib.AsyncExitStack() as stack:
            url = args.ari_url or await stack.enter_async_context(ari_fake())
            ours = await telemart_run(args, url, agents)
            base = None if args.no_baseline else await bare_run(args, url)
        return {
            "driver": "ari" if args.ari_url else "ari-fake", **ours.report(),
            "rate": args.rate, "agents": agents, "talk_s": args.talk_s,
            "baseline": None if base is None else {"what": "bare ARI client", **base.report()},
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }  # fmt: skip

    result = asyncio.run(main())
    if not args.json:
        print(f"{result['calls']} calls bridged at {result['calls_per_s']}/s, "
              f"{result['failed']} failed; answer->bridge command "
              f"{result['answer_to_bridge_ms']} ms")
        if result["baseline"]:
            print(f"baseline (bare ARI client): {result['baseline']['answer_to_bridge_ms']} ms")
    print(json.dumps(result))
    return 0 if result["failed"] == 0 else 1
