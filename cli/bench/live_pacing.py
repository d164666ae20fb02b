"""`telemart bench live-pacing`: the real live runtime against the simulator, one scenario.

The live side: a fresh database with a campaign of fresh leads (seeded customers with
consent), `telemart serve` in a child process (PostgreSQL, the hopper, the compliance guard,
the desk, the pacing loop) on the `sim` carrier drawing the scenario's callees, everything
scaled in time by `--time-scale` (a scenario second lasts that many real seconds), and the
scenario's agents as websocket clients in this process: each takes every screen pop, talks
for a draw of the scenario's talk time, hangs up, wraps up for a draw of its wrap time and
sets a disposition; staffing changes log agents out (after their call) and back in.
The sim side, in the same run: `bench pacing` on the same scenario, seed and length.

Both print `bench pacing`'s keys; the last line is
`{"scenario", "seed", "live": {…}, "sim": {…}, "occupancy_gap", "abandon_gap"}`
(medians of `--runs` runs; the gaps are live minus sim).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import json
import os
import random
import secrets
import statistics
import sys
import time
from typing import Any

import aiohttp
import asyncpg

from cli.bench.pacing import positive_hours
from dialer.sim.results import percentile, worst_hour_rate
from dialer.sim.scenario import Scenario, load_scenario

MEDIAN_KEYS = (
    "dials", "live_answers", "connected", "abandoned", "abandon_rate",
    "worst_hour_abandon_rate", "occupancy", "talk_occupancy", "contacts_per_agent_hour",
    "bound_ratio", "connect_wait_p50_s", "connect_wait_p99_s", "refused_dials", "wall_seconds",
)  # fmt: skip
LEAD_MARGIN = 1.5  # leads seeded per dial the simulator makes (each lead is dialled once)
SETTLE_S = 3.0  # real seconds for calls to finish after the shift, before counting


def register(bench_sub: Any) -> None:
    p = bench_sub.add_parser(
        "live-pacing", help="the live runtime (websocket agents, sim carrier) vs the simulator",
        description="Runs the real live dialer on the sim carrier scaled in time, with the "
                    "scenario's agents over websockets, and `bench pacing` on the same "
                    "scenario and seed; prints both and the gaps.")
    p.add_argument("--scenario", default="steady-50", help="a bundled name or a TOML file")
    p.add_argument("--seed", type=int, help="random seed (default: the scenario's own)")
    p.add_argument("--time-scale", type=float, default=0.05,
                   help="real seconds per scenario second (default 0.05)")
    p.add_argument("--hours", type=positive_hours,
                   help="cut the shift to its first hours (both sides; default: whole shift)")
    p.add_argument("--strategy", default="predictive")
    p.add_argument("--runs", type=int, default=3, help="runs; medians are printed")
    p.add_argument("--json", action="store_true", help="print only the JSON line")
    p.set_defaults(func=cmd_bench_live_pacing)


Span = tuple[float, float | None]  # real (monotonic) start and end; None: still open


@dataclasses.dataclass(kw_only=True)
class AgentTimes:
    """One agent's spans (real seconds), as the desktop lived them: measured over the
    shift's window the way the simulator measures its agents, a call still going at the
    end counting up to the end."""

    logged: list[Span] = dataclasses.field(default_factory=list)
    talk: list[Span] = dataclasses.field(default_factory=list)
    wrap: list[Span] = dataclasses.field(default_factory=list)
    calls: int = 0

    @staticmethod
    def within(spans: list[Span], start: float, end: float) -> float:
        """Seconds of `spans` inside [start, end]."""
        return sum(max(0.0, min(end, e if e is not None else end) - max(start, s))
                   for s, e in spans)

    @staticmethod
    def close(spans: list[Span], at: float) -> None:
        if spans and spans[-1][1] is None:
            spans[-1] = (spans[-1][0], at)


class ScenarioAgent:
    """An agent's desktop following the scenario's talk and wrap times (scaled).

    Like a browser, it keeps reading its websocket while on a call (pings are answered,
    state messages drained); the call itself runs beside the reader."""

    def __init__(self, *, token: str, campaign_id: int, scenario: Scenario, scale: float,
                 rng: random.Random) -> None:
        self.token, self.campaign_id = token, campaign_id
        self.scenario, self.scale, self.rng = scenario, scale, rng
        self.times = AgentTimes()
        self.want_in = True  # staffing: should this agent be logged in
        self._in = False
        self._busy = False
        self._call_task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def run(self, session: aiohttp.ClientSession, base: str, stop: asyncio.Event) -> None:
        url = base.replace("http", "ws", 1) + "/api/v1/dialer/ws"
        headers = {"Authorization": f"Bearer {self.token}"}
        async with session.ws_connect(url, headers=headers, heartbeat=None) as ws:
            self._ws = ws
            await self._log_in()
            reader = asyncio.create_task(self._read(ws))
            await stop.wait()
            now = time.monotonic()
            for spans in (self.times.logged, self.times.talk, self.times.wrap):
                AgentTimes.close(spans, now)
            self._in = False
            tasks = [t for t in (reader, self._call_task) if t is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _log_in(self) -> None:
        assert self._ws is not None
        await self._ws.send_json({"type": "ready", "campaign_id": self.campaign_id})
        self._in = True
        self.times.logged.append((time.monotonic(), None))

    async def staff(self, wanted: bool) -> None:
        """Staffing change: an idle agent leaves now, a busy one after the call."""
        self.want_in = wanted
        if wanted and not self._in:
            await self._log_in()
        elif not wanted and not self._busy and self._in:
            await self._leave()

    async def announce(self, leaves_in_s: float) -> None:
        """The agent's logout becomes known ahead (scenario seconds, the desk's clock)."""
        if self._ws is not None and self._in:
            await self._ws.send_json({"type": "schedule", "leaves_in_s": leaves_in_s})

    async def _leave(self) -> None:
        assert self._ws is not None
        await self._ws.send_json({"type": "logout"})
        self._in = False
        AgentTimes.close(self.times.logged, time.monotonic())

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            m = json.loads(msg.data)
            if m.get("type") == "pop" and not self._busy:
                self._busy = True
                self._call_task = asyncio.create_task(self._call(ws, int(m["attempt_id"])))

    async def _call(self, ws: aiohttp.ClientWebSocketResponse, attempt_id: int) -> None:
        times = self.times
        try:
            await ws.send_json({"type": "ack", "attempt_id": attempt_id})
            talk_s = self.scenario.talk.sample(self.rng) * self.scale
            wrap_s = self.scenario.wrap.sample(self.rng) * self.scale
            times.talk.append((time.monotonic(), None))
            await asyncio.sleep(talk_s)
            await ws.send_json({"type": "hangup", "attempt_id": attempt_id})
            now = time.monotonic()
            AgentTimes.close(times.talk, now)
            times.wrap.append((now, None))
            await asyncio.sleep(wrap_s)
            await ws.send_json({"type": "disposition", "attempt_id": attempt_id,
                                "code": "no_sale"})
            AgentTimes.close(times.wrap, time.monotonic())
            times.calls += 1
        finally:
            self._busy = False
        if not self.want_in:
            await self._leave()


async def _notice(bots: list[ScenarioAgent], scenario: Scenario, change: Any, before: int,
                  started: float, scale: float) -> None:
    """The agents who will log out at `change` say so when it becomes known, as the
    simulator's planner learns it (`notice_s` ahead; none: from the start)."""
    known_s = 0.0 if change.notice_s is None else max(0.0, change.at_s - change.notice_s)
    await asyncio.sleep(max(0.0, started + known_s * scale - time.monotonic()))
    for bot in bots[change.agents:before]:
        await bot.announce(change.at_s - known_s)


def _sim(scenario: Scenario, strategy: str, seed: int) -> dict[str, Any]:
    from dialer.core.pacing.registry import load_strategy
    from dialer.sim.simulator import simulate

    result = simulate(scenario, load_strategy(strategy, scenario.pacing_settings()), seed=seed)
    return result.as_json()


async def _prepare(url: str, scenario: Scenario, strategy: str, leads: int,
                   agents: int) -> tuple[int, list[str]]:
    from argon2 import PasswordHasher

    from config.db import connect
    from config.migrations import migrate
    from dialer.sim.seed import seed_campaign
    from dialer.store.campaigns_config import ComplianceIn
    from server.auth import Role, User, issue_token

    conn = await connect(url)
    try:
        await migrate(conn)
        compliance = ComplianceIn(
            abandon_cap=scenario.abandon_cap, connect_window_s=scenario.connect_window_s,
            ring_timeout_s=scenario.max_ring_s, max_attempts_total=50,
            max_attempts_per_day=20,
        )  # fmt: skip
        campaign_id = await seed_campaign(conn, leads=leads, name="bench live-pacing",
                                          strategy=strategy, start=False,
                                          compliance=compliance)
        password_hash = PasswordHasher().hash(secrets.token_hex(8))
        rows = await conn.fetch(
            "INSERT INTO users (username, password_hash, role)"
            " SELECT 'pace' || lpad(g::text, 4, '0'), $1, 'agent'"
            " FROM generate_series(1, $2) AS g RETURNING id, username",
            password_hash, agents,
        )  # fmt: skip
        tokens = [await issue_token(conn, user=User(id=r["id"], username=r["username"],
                                                    role=Role.AGENT), kind="api", hours=12)
                  for r in rows]
    finally:
        await conn.close()
    return campaign_id, tokens


async def _live_once(args: argparse.Namespace, scenario: Scenario, seed: int,
                     leads: int) -> dict[str, Any]:
    from cli.main import settings_from
    from config.scratch import scratch_database, server_process

    scale = args.time_scale
    peak = max([scenario.agents, *(c.agents for c in scenario.staffing_changes)])
    async with scratch_database(settings_from(args), prefix="telemart_bench_pace") as url:
        campaign_id, tokens = await _prepare(url, scenario, args.strategy, leads, peak)
        metrics_token = secrets.token_hex(16)
        env = {"TELEMART_SIM_SCENARIO": args.scenario, "TELEMART_SIM_SEED": str(seed),
               "TELEMART_METRICS_TOKEN": metrics_token,
               "TELEMART_SIM_TIME_SCALE": str(scale),
               "TELEMART_DIALER_TICK_S": str(max(scale, 0.02)),
               "TELEMART_DIALER_SCAN_S": "0.2", "TELEMART_POOL_MAX_SIZE": "30"}
        rng = random.Random(f"{seed}:agent")
        bots = [ScenarioAgent(token=t, campaign_id=campaign_id, scenario=scenario, scale=scale,
                              rng=random.Random(rng.random())) for t in tokens]
        stop = asyncio.Event()
        async with server_process(url, env=env) as base, aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0)) as session:
            tasks = [asyncio.create_task(b.run(session, base, stop)) for b in bots]
            for bot in bots[scenario.agents:]:
                bot.want_in = False
            await asyncio.sleep(1.0)  # desktops connected and ready
            for bot in bots[scenario.agents:]:
                await bot.staff(False)
            conn = await asyncpg.connect(url)
            try:
                await conn.execute("UPDATE campaigns SET status = 'running' WHERE id = $1",
                                   campaign_id)
                started_at = await conn.fetchval("SELECT now()")
            finally:
                await conn.close()
            started = time.monotonic()
            load_at_start = os.getloadavg()[0]
            notices = [asyncio.create_task(_notice(bots, scenario, change, before, started,
                                                   scale))
                       for change, before in zip(scenario.staffing_changes,
                                                 [scenario.agents, *(c.agents for c in
                                                  scenario.staffing_changes)], strict=False)
                       if change.agents < before]
            for change in scenario.staffing_changes:
                await asyncio.sleep(max(0.0, started + change.at_s * scale - time.monotonic()))
                for i, bot in enumerate(bots):
                    await bot.staff(i < change.agents)
            await asyncio.gather(*notices)
            await asyncio.sleep(max(0.0, started + scenario.duration_s * scale
                                    - time.monotonic()))
            wall_s = time.monotonic() - started
            held = await _held_by_cap(session, base, metrics_token, campaign_id)
            load_at_end = os.getloadavg()[0]
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            conn = await asyncpg.connect(url)
            try:
                await conn.execute("UPDATE campaigns SET status = 'paused' WHERE id = $1",
                                   campaign_id)
            finally:
                await conn.close()
            await asyncio.sleep(SETTLE_S)
        result = await _measure(url, scenario, scale, bots, started_at, started, wall_s)
        return {**result, "refused_dials": held,
                "load_avg_1m": [round(load_at_start, 2), round(load_at_end, 2)]}


async def _held_by_cap(session: aiohttp.ClientSession, base: str, token: str,
                       campaign_id: int) -> int | None:
    """Dials the server's planner held back at the abandon cap (its tally, as /metrics
    reports it): `bench pacing`'s refused_dials."""
    from prometheus_client.parser import text_string_to_metric_families

    async with session.get(base + "/metrics",
                           headers={"Authorization": f"Bearer {token}"}) as resp:
        if resp.status != 200:
            return None
        text = await resp.text()
    for family in text_string_to_metric_families(text):
        if family.name == "telemart_dialer_dials_held_by_cap":
            return int(sum(s.value for s in family.samples if s.name.endswith("_total")
                           and s.labels.get("campaign") == str(campaign_id)))
    return None


async def _measure(url: str, scenario: Scenario, scale: float, bots: list[ScenarioAgent],
                   started_at: Any, started: float, wall_s: float) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """
            SELECT j.outcome, a.outcome AS attempt_outcome,
                   extract(epoch FROM j.answered_at - $1)::float8 AS answered_s,
                   extract(epoch FROM j.agent_connected_at - j.answered_at)::float8 AS wait_s
            FROM call_journeys j LEFT JOIN contact_attempts a ON a.id = j.attempt_id
            WHERE j.dialed_at >= $1 AND j.dialed_at < $1 + make_interval(secs => $2)
            """, started_at, scenario.duration_s * scale)  # fmt: skip
    finally:
        await conn.close()
    end_s = scenario.duration_s
    answers: list[tuple[float, bool]] = []
    waits: list[float] = []
    connected = abandoned = 0
    outcomes: collections.Counter[str] = collections.Counter()
    for r in rows:
        outcome = r["attempt_outcome"] or r["outcome"]
        outcomes[str(outcome)] += 1
        # a live answer (the journey's answered_at: a person's); calls still on agents at
        # the end were closed by the stopping server as interrupted: they count, as in the
        # simulator
        if r["answered_s"] is None:
            continue
        at_s = r["answered_s"] / scale
        if at_s > end_s:
            continue
        dropped = outcome == "abandoned"
        answers.append((at_s, dropped))
        abandoned += dropped
        connected += not dropped
        if r["wait_s"] is not None:
            waits.append(r["wait_s"] / scale)
    live = connected + abandoned
    # the agents' time over the shift's window, as the simulator counts its own
    start, end = started, started + scenario.duration_s * scale
    logged = sum(AgentTimes.within(b.times.logged, start, end) for b in bots) / scale
    talk = sum(AgentTimes.within(b.times.talk, start, end) for b in bots) / scale
    wrap = sum(AgentTimes.within(b.times.wrap, start, end) for b in bots) / scale
    per_hour = connected / (logged / 3600.0) if logged else 0.0
    return {
        "scenario": scenario.name, "agents": scenario.agents, "dials": len(rows),
        "live_answers": live, "connected": connected, "abandoned": abandoned,
        "abandon_rate": round(abandoned / live, 5) if live else 0.0,
        "worst_hour_abandon_rate": worst_hour_rate(sorted(answers), duration_s=end_s),
        "occupancy": round((talk + wrap) / logged, 5) if logged else 0.0,
        "talk_occupancy": round(talk / logged, 5) if logged else 0.0,
        "contacts_per_agent_hour": round(per_hour, 5),
        "contacts_bound": round(scenario.contacts_bound, 5),
        "bound_ratio": round(per_hour / scenario.contacts_bound, 5),
        "connect_wait_p50_s": round(percentile(waits, 50), 5),
        "connect_wait_p99_s": round(percentile(waits, 99), 5),
        "sim_seconds": end_s, "wall_seconds": round(wall_s, 2),
        "outcomes": dict(outcomes),
    }  # fmt: skip


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(runs[0])
    for key in MEDIAN_KEYS:
        values = [r[key] for r in runs if r.get(key) is not None]
        out[key] = round(statistics.median(values), 5) if values else None
    return out


async def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    scenario = load_scenario(args.scenario).first_hours(args.hours)
    seed = scenario.seed if args.seed is None else args.seed
    sims = [_sim(scenario, args.strategy, seed) for _ in range(args.runs)]
    sim = _median(sims)
    leads = int(sim["dials"] * LEAD_MARGIN) + 200
    lives = []
    for i in range(args.runs):
        lives.append(await _live_once(args, scenario, seed, leads))
        if not args.json:
            r = lives[-1]
            print(f"live run {i + 1}: occupancy {r['occupancy']:.3f}, abandon "
                  f"{r['abandon_rate']:.2%} ({r['abandoned']}/{r['live_answers']}), "
                  f"{r['dials']} dials in {r['wall_seconds']:.0f} s", file=sys.stderr)
    live = _median(lives)
    return {
        "scenario": scenario.name, "seed": seed, "strategy": args.strategy,
        "time_scale": args.time_scale, "sim_seconds": scenario.duration_s, "runs": args.runs,
        "live": live, "sim": sim,
        "occupancy_gap": round(live["occupancy"] - sim["occupancy"], 5),
        "abandon_gap": round(live["abandon_rate"] - sim["abandon_rate"], 5),
        "live_runs": lives,
    }  # fmt: skip


def cmd_bench_live_pacing(args: argparse.Namespace) -> int:
    result = asyncio.run(run_bench(args))
    if not args.json:
        print(f"{result['scenario']} seed {result['seed']}: occupancy live "
              f"{result['live']['occupancy']:.3f} vs sim {result['sim']['occupancy']:.3f} "
              f"(gap {result['occupancy_gap']:+.3f}); abandon live "
              f"{result['live']['abandon_rate']:.2%} vs sim {result['sim']['abandon_rate']:.2%}",
              file=sys.stderr)
    print(json.dumps(result))
    return 0
