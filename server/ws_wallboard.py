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
CAP_NEAR = 0.8  # an abandon rate at 80 % of the cap raises an alert
# How long an agent may stay in a state before the wallboard says so (seconds).
STUCK_AFTER_S = {"wrap_up": 120.0, "reserved": 10.0, "on_call": 1800.0, "paused": 900.0}


def alerts_for(campaigns: list[dict[str, Any]], agents: list[dict[str, Any]]
               ) -> list[dict[str, Any]]:  # fmt: skip
    """What a supervisor should look at now: a campaign's abandon rate near or over its
    cap, an agent too long in one state, a logged-in agent whose desktop is gone."""
    out: list[dict[str, Any]] = []
    for c in campaigns:
        cap, rate = c["abandon_cap"], c["abandon_rate"]
        if cap > 0 and rate >= CAP_NEAR * cap and c["status"] == "running":
            out.append({"kind": "cap_over" if rate >= cap else "cap_near",
                        "level": "bad" if rate >= cap else "warn", "campaign_id": c["id"],
                        "campaign": c["name"], "rate": rate, "cap": cap})  # fmt: skip
    for a in agents:
        if a["state"] != "offline" and not a["connected"]:
            out.append({"kind": "desktop_gone", "level": "bad", "agent": a["username"],
                        "state": a["state"], "in_state_s": a["in_state_s"]})  # fmt: skip
        limit = STUCK_AFTER_S.get(a["state"])
        if limit is not None and a["in_state_s"] >= limit:
            out.append({"kind": "stuck", "level": "warn", "agent": a["username"],
                        "state": a["state"], "in_state_s": a["in_state_s"],
                        "limit_s": limit})  # fmt: skip
    return out



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
    since = await stats.day_start(conn, tz=SHIFT_TZ)
    figures = await stats.agents_today(conn, since=since)
    for a in agents:
        f = figures.get(a["agent_id"])
        a["today"] = {"calls": f.calls if f else 0, "talk_s": round(f.talk_s, 1) if f else 0.0,
                      "orders": f.orders if f else 0}  # fmt: skip
    windows = {c.id: float(c.compliance.get("abandon_window_s") or US_WINDOW_S) for c in today}
    window_counts = await contacts.answer_counts(conn, windows_s=windows)
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
    campaigns: list[dict[str, Any]] = []
    for c in today:
        on = [a for a in agents if a["campaign_id"] == c.id]
        available = sum(a["available_s"] for a in on)
        busy = sum(a["busy_s"] for a in on)
        counts = window_counts.get(c.id)
        now = desk.clock()
        waiting = [now - since for since in desk.waiting_since(c.id)]
        campaigns.append({
            "waiting": len(waiting), "longest_wait_s": round(max(waiting), 1) if waiting else 0.0,
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
    longest: float = max((float(c["longest_wait_s"]) for c in campaigns), default=0.0)
    return {"agents": agents, "agents_by_state": dict(by_state), "campaigns": campaigns,
            "bucket_s": SERIES_BUCKET_S, "alerts": alerts_for(campaigns, agents),
            "waiting": sum(int(c["waiting"]) for c in campaigns), "longest_wait_s": longest}


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
                    "agent_id": r["agent_id"], "transferred_from": r["transferred_from"],
                    "mode": r["mode"], "outcome": r["outcome"],
                    "queued_at": t0.isoformat(), "steps_ms": steps, "order_id": r["order_id"],
                    "total_krw": order.total_krw if order is not None else None})
    return out
