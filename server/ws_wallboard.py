"""What the supervisor's wallboard shows: the live desk's agents, the dialer's figures for
today, the orders taken on calls and the abandon rate over each campaign's window, each
read through its own domain."""

from __future__ import annotations

import collections
from typing import Any

import asyncpg

from crm import contacts
from dialer.core.abandon import US_WINDOW_S
from dialer.live.desk import LiveDesk
from dialer.live.runtime import DialerRuntime
from dialer.store import agents as agent_sessions
from dialer.store import hopper, stats
from orders import reads as order_reads

SHIFT_TZ = "Asia/Seoul"  # "today" on the wallboard is the contact centre's day
SERIES_BUCKET_S = 300  # one chart point per five minutes
SERIES_HOURS = 10
SESSION_FRESH_S = 60.0  # an agent's desktop heard from within this counts as connected



def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 1)


async def wallboard_json(
    conn: asyncpg.Connection, *, desk: LiveDesk, runtime: DialerRuntime | None
) -> dict[str, Any]:
    agents = desk.board()
    here = {a["agent_id"] for a in agents}
    for other in await agent_sessions.board(conn, fresh_s=SESSION_FRESH_S):
        if other["agent_id"] not in here:  # on a desk in another process
            agents.append({**other, "in_state_s": round(other["in_state_s"], 1),
                           "phone": None, "busy_s": 0.0, "available_s": 0.0})
    by_state = collections.Counter(a["state"] for a in agents)
    today = await stats.campaigns_today(conn, tz=SHIFT_TZ)
    follow_ups = await hopper.follow_ups(conn)
    windows = {c.id: float(c.compliance.get("abandon_window_s") or US_WINDOW_S) for c in today}
    window_counts = await contacts.answer_counts(conn, windows_s=windows)
    since = await stats.day_start(conn, tz=SHIFT_TZ)
    call_orders = await order_reads.call_orders_since(conn, since=since)
    campaign_of = await stats.campaigns_of_attempts(
        conn, attempt_ids=[o.attempt_id for o in call_orders])
    orders = collections.Counter[int]()
    revenue = collections.Counter[int]()
    for o in call_orders:
        cid = campaign_of.get(o.attempt_id)
        if cid is not None:
            orders[cid] += 1
            revenue[cid] += o.total_krw
    series: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
    for s in await stats.series(conn, bucket_s=SERIES_BUCKET_S, hours=SERIES_HOURS):
        series[s.campaign_id].append({"t": s.bucket, "dials": s.dials, "live": s.live,
                                      "abandoned": s.abandoned})
    campaigns = []
    for c in today:
        on = [a for a in agents if a["campaign_id"] == c.id]
        available = sum(a["available_s"] for a in on)
        busy = sum(a["busy_s"] for a in on)
        counts = window_counts.get(c.id)
        campaigns.append({
            "id": c.id, "name": c.name, "status": c.status, "strategy": c.strategy,
            "dials": c.dials, "live_answers": c.live_answers,
            "connected": c.connected, "abandoned": c.abandoned,
            "abandon_rate": counts.abandoned / counts.live if counts and counts.live else 0.0,
            "abandon_cap": float(c.compliance.get("abandon_cap", 0.03)),
            "occupancy": busy / available if available else 0.0,
            "agents": collections.Counter(a["state"] for a in on),
            "answer_to_agent_ms": {"p50": _ms(c.answer_to_agent_s[0]),
                                   "p99": _ms(c.answer_to_agent_s[1])},
            "answer_to_pop_ms": {"p50": _ms(c.answer_to_pop_s[0]),
                                 "p99": _ms(c.answer_to_pop_s[1])},
            "orders": orders[c.id], "revenue_krw": revenue[c.id],
            "series": series.get(c.id, []),
            "held_here": runtime is not None and c.id in runtime.held,
            "follow_ups": follow_ups.get(c.id, 0),  # answered calls cut by a crash
        })  # fmt: skip
    return {"agents": agents, "agents_by_state": dict(by_state), "campaigns": campaigns,
            "bucket_s": SERIES_BUCKET_S}


async def journeys_json(conn: asyncpg.Connection, *, limit: int) -> list[dict[str, Any]]:
    rows = await stats.recent_journeys(conn, limit=limit)
    orders = await order_reads.orders_of_attempts(
        conn, attempt_ids=[r["attempt_id"] for r in rows])
    out = []
    for r in rows:
        t0 = r["queued_at"]
        steps = {name.removesuffix("_at"): _ms((r[name] - t0).total_seconds()) if r[name]
                 else None for name in stats.JOURNEY_STEPS}
        order = orders.get(r["attempt_id"])
        out.append({"attempt_id": r["attempt_id"], "campaign": r["campaign"],
                    "agent_id": r["agent_id"], "mode": r["mode"], "outcome": r["outcome"],
                    "queued_at": t0.isoformat(), "steps_ms": steps, "order_id": r["order_id"],
                    "total_krw": order.total_krw if order is not None else None})
    return out
