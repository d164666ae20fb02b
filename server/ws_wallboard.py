"""What the supervisor's wallboard shows, read from the live desk and PostgreSQL."""

from __future__ import annotations

import collections
from typing import Any

import asyncpg

from dialer.core.abandon import US_WINDOW_S
from dialer.live.desk import LiveDesk
from dialer.live.runtime import DialerRuntime

SHIFT_TZ = "Asia/Seoul"  # "today" on the wallboard is the contact centre's day
SERIES_BUCKET_S = 300  # one chart point per five minutes
SERIES_HOURS = 10

_CAMPAIGNS = """
WITH t AS (SELECT (date_trunc('day', now() AT TIME ZONE $1) AT TIME ZONE $1) AS t0)
SELECT k.id, k.name, k.status, k.pacing_strategy, k.compliance,
       coalesce(j.dials, 0) AS dials, coalesce(j.live, 0) AS live_answers,
       coalesce(j.connected, 0) AS connected, coalesce(j.abandoned, 0) AS abandoned,
       j.a2a_p50, j.a2a_p99, j.pop_p50, j.pop_p99,
       coalesce(o.orders, 0) AS orders, coalesce(o.revenue, 0) AS revenue_krw,
       w.window_live, w.window_abandoned
FROM campaigns k CROSS JOIN t
LEFT JOIN LATERAL (
    SELECT count(*) AS dials,
           count(*) FILTER (WHERE answered_at IS NOT NULL) AS live,
           count(*) FILTER (WHERE agent_connected_at IS NOT NULL) AS connected,
           count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
               agent_connected_at - answered_at)) AS a2a_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM
               agent_connected_at - answered_at)) AS a2a_p99,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
               pop_acked_at - answered_at)) AS pop_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM
               pop_acked_at - answered_at)) AS pop_p99
    FROM call_journeys WHERE campaign_id = k.id AND queued_at >= t.t0
) j ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS orders, sum(o.total_krw) AS revenue
    FROM orders o JOIN call_journeys cj ON cj.attempt_id = o.attempt_id
    WHERE cj.campaign_id = k.id AND o.placed_at >= t.t0 AND o.status <> 'cancelled'
) o ON true
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE outcome IN ('answered_live', 'abandoned')) AS window_live,
           count(*) FILTER (WHERE outcome = 'abandoned') AS window_abandoned
    FROM contact_attempts
    WHERE campaign_id = k.id
      AND at >= now() - make_interval(secs => coalesce(
              (k.compliance ->> 'abandon_window_s')::float8, $2))
) w ON true
WHERE k.status IN ('running', 'paused')
ORDER BY k.status DESC, k.id
"""
_SERIES = """
SELECT campaign_id,
       (floor(extract(epoch FROM queued_at) / $1::int) * $1::int)::bigint AS bucket,
       count(*) AS dials, count(*) FILTER (WHERE answered_at IS NOT NULL) AS live,
       count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned
FROM call_journeys
WHERE queued_at >= now() - make_interval(hours => $2)
GROUP BY 1, 2 ORDER BY 2
"""
_JOURNEYS = """
SELECT j.*, k.name AS campaign, o.total_krw,
       (SELECT min(e.at) FROM order_events e WHERE e.order_id = o.id) AS order_first_event_at
FROM call_journeys j
LEFT JOIN campaigns k ON k.id = j.campaign_id
LEFT JOIN orders o ON o.attempt_id = j.attempt_id
ORDER BY j.queued_at DESC LIMIT $1
"""
_STEPS = ("queued_at", "dialed_at", "ringing_at", "answered_at", "agent_connected_at",
          "pop_acked_at", "order_submitted_at", "order_committed_at", "ended_at")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 1)


async def wallboard_json(
    conn: asyncpg.Connection, *, desk: LiveDesk, runtime: DialerRuntime | None
) -> dict[str, Any]:
    agents = desk.board()
    by_state = collections.Counter(a["state"] for a in agents)
    rows = await conn.fetch(_CAMPAIGNS, SHIFT_TZ, US_WINDOW_S)
    series_rows = await conn.fetch(_SERIES, SERIES_BUCKET_S, SERIES_HOURS)
    series: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
    for s in series_rows:
        series[s["campaign_id"]].append({"t": s["bucket"], "dials": s["dials"],
                                         "live": s["live"], "abandoned": s["abandoned"]})
    campaigns = []
    for r in rows:
        on = [a for a in agents if a["campaign_id"] == r["id"]]
        available = sum(a["available_s"] for a in on)
        busy = sum(a["busy_s"] for a in on)
        window_live = r["window_live"] or 0
        campaigns.append({
            "id": r["id"], "name": r["name"], "status": r["status"],
            "strategy": r["pacing_strategy"],
            "dials": r["dials"], "live_answers": r["live_answers"],
            "connected": r["connected"], "abandoned": r["abandoned"],
            "abandon_rate": (r["window_abandoned"] / window_live) if window_live else 0.0,
            "abandon_cap": float((r["compliance"] or {}).get("abandon_cap", 0.03)),
            "occupancy": busy / available if available else 0.0,
            "agents": collections.Counter(a["state"] for a in on),
            "answer_to_agent_ms": {"p50": _ms(r["a2a_p50"]), "p99": _ms(r["a2a_p99"])},
            "answer_to_pop_ms": {"p50": _ms(r["pop_p50"]), "p99": _ms(r["pop_p99"])},
            "orders": r["orders"], "revenue_krw": int(r["revenue_krw"]),
            "series": series.get(r["id"], []),
            "held_here": runtime is not None and r["id"] in runtime.held,
        })  # fmt: skip
    return {"agents": agents, "agents_by_state": dict(by_state), "campaigns": campaigns,
            "bucket_s": SERIES_BUCKET_S}


async def journeys_json(conn: asyncpg.Connection, *, limit: int) -> list[dict[str, Any]]:
    out = []
    for r in await conn.fetch(_JOURNEYS, limit):
        t0 = r["queued_at"]
        steps = {name.removesuffix("_at"): _ms((r[name] - t0).total_seconds()) if r[name]
                 else None for name in _STEPS}
        out.append({"attempt_id": r["attempt_id"], "campaign": r["campaign"],
                    "agent_id": r["agent_id"], "mode": r["mode"], "outcome": r["outcome"],
                    "queued_at": t0.isoformat(), "steps_ms": steps, "order_id": r["order_id"],
                    "total_krw": r["total_krw"]})
    return out
