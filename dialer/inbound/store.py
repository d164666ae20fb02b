"""The inbound side's tables through named SQL (`queries.sql`): queues and numbers,
skills, the broadcast schedule, the call log, callbacks, registered payments, ARS menus
and sessions. Functions take a connection; the caller owns the transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from config.sql import load_queries
from dialer.inbound.acd import QueueRule
from dialer.inbound.ars import Menu, RegisteredPayment, load_menu, parse_menu
from dialer.inbound.schedule import Broadcast

Q = load_queries("dialer.inbound", "queries.sql")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Route:
    queue_id: int
    unknown: bool  # the number maps to no queue: the default queue took it
    ars: bool  # the ARS menu answers first


def rule_of(row: asyncpg.Record | dict[str, Any]) -> QueueRule:
    return QueueRule(queue_id=row["id"], name=row["name"], priority=row["priority"],
                     overflow_s=row["overflow_s"], announce_every_s=row["announce_every_s"],
                     callback_after_s=row["callback_after_s"], wrap_s=row["wrap_s"],
                     aht_s=row["aht_s"])


async def list_queues(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q["list_queues"])]


async def queue_rules(conn: asyncpg.Connection) -> dict[int, QueueRule]:
    return {r["id"]: rule_of(r) for r in await conn.fetch(Q["list_queues"])}


async def upsert_queue(conn: asyncpg.Connection, *, rule: QueueRule, kind: str) -> int:
    return int(await conn.fetchval(
        Q["upsert_queue"], rule.name, kind, rule.priority, rule.overflow_s,
        rule.announce_every_s, rule.callback_after_s, rule.wrap_s, rule.aht_s))


async def queue_id(conn: asyncpg.Connection, name: str) -> int | None:
    found = await conn.fetchval(Q["queue_id_by_name"], name)
    return int(found) if found is not None else None


async def set_number(conn: asyncpg.Connection, *, called: str, queue_id: int,
                     ars: bool = False) -> None:
    await conn.execute(Q["set_number"], called, queue_id, ars)


async def route(conn: asyncpg.Connection, called: str) -> Route:
    row = await conn.fetchrow(Q["route_number"], called)
    assert row is not None, "migration 0090 makes a default queue"
    return Route(queue_id=row["queue_id"], unknown=row["unknown"], ars=row["ars"])


async def set_skill(conn: asyncpg.Connection, *, agent_id: int, queue_id: int,
                    level: int | None) -> None:
    if level is None:
        await conn.execute(Q["delete_skill"], agent_id, queue_id)
    else:
        await conn.execute(Q["set_skill"], agent_id, queue_id, level)


async def skills(conn: asyncpg.Connection) -> dict[int, dict[int, int]]:
    """agent id -> {queue id: level}."""
    out: dict[int, dict[int, int]] = {}
    for r in await conn.fetch(Q["skills"]):
        out.setdefault(r["agent_id"], {})[r["queue_id"]] = r["level"]
    return out


async def skill_rows(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q["skills"])]


async def insert_broadcasts(conn: asyncpg.Connection, *, rows: Sequence[tuple[Broadcast, int]],
                            actor: str) -> list[int]:
    """Store (broadcast, queue id) pairs; returns their ids."""
    if not rows:
        return []
    found = await conn.fetch(
        Q["insert_broadcasts"], [b.start for b, _ in rows], [b.end for b, _ in rows],
        [b.title for b, _ in rows], [";".join(b.products) for b, _ in rows],
        [b.expected_calls for b, _ in rows], [q for _, q in rows], actor)
    return [r["id"] for r in found]


async def overlapping(conn: asyncpg.Connection, *, queue_id: int, start: dt.datetime,
                      end: dt.datetime) -> list[int]:
    return [r["id"] for r in await conn.fetch(Q["overlapping_broadcasts"], queue_id, start, end)]


async def list_broadcasts(conn: asyncpg.Connection, *, since: dt.datetime,
                          until: dt.datetime) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q["list_broadcasts"], since, until)]


async def delete_broadcast(conn: asyncpg.Connection, broadcast_id: int) -> bool:
    return await conn.fetchval(Q["delete_broadcast"], broadcast_id) is not None


async def on_air(conn: asyncpg.Connection, *, queue_id: int,
                 now: dt.datetime) -> dict[str, Any] | None:
    row = await conn.fetchrow(Q["on_air"], queue_id, now)
    return dict(row) if row else None


async def log_call(conn: asyncpg.Connection, *, call_id: str, caller: str | None, called: str,
                   route: Route, customer_id: int | None, broadcast_id: int | None,
                   at: dt.datetime, attempt_id: int | None = None) -> None:
    await conn.execute(Q["insert_call"], call_id, caller, called, route.unknown, route.queue_id,
                       customer_id, broadcast_id, at, attempt_id)


async def answer_call(conn: asyncpg.Connection, *, call_id: str, agent_id: int,
                      at: dt.datetime) -> None:
    await conn.execute(Q["answer_call"], call_id, agent_id, at)


async def end_call(conn: asyncpg.Connection, *, call_id: str, outcome: str,
                   at: dt.datetime) -> None:
    await conn.execute(Q["end_call"], call_id, outcome, at)


async def queue_stats(conn: asyncpg.Connection, *, since: dt.datetime,
                      target_s: float = 20.0) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q["queue_stats"], since, target_s)]


async def measured_patience(conn: asyncpg.Connection, *, since: dt.datetime) -> asyncpg.Record:
    """(calls, abandoned, wait_s) of the agent queues since `since`."""
    row: asyncpg.Record = await conn.fetchrow(Q["measured_patience"], since)
    return row


async def measured_outbound_talk(conn: asyncpg.Connection, *,
                                 since: dt.datetime) -> asyncpg.Record:  # fmt: skip
    """(calls, mean_s, sd_s) of outbound talk since `since`."""
    row: asyncpg.Record = await conn.fetchrow(Q["measured_outbound_talk"], since)
    return row


async def add_callback(conn: asyncpg.Connection, *, queue_id: int, call_id: str, phone: str,
                       customer_id: int | None, place_since: dt.datetime,
                       owner: str | None = None) -> int | None:
    found = await conn.fetchval(Q["insert_callback"], queue_id, call_id, phone, customer_id,
                                place_since, owner)
    return int(found) if found is not None else None


async def set_callback(conn: asyncpg.Connection, *, callback_id: int, status: str,
                       agent_id: int | None, attempt: bool = False) -> dict[str, Any]:
    row = await conn.fetchrow(Q["set_callback"], callback_id, status, agent_id, attempt)
    assert row is not None
    return dict(row)


async def pending_callbacks(conn: asyncpg.Connection, *,
                            agent_id: int | None = None) -> list[dict[str, Any]]:
    """Callbacks not done yet; with `agent_id`, only those reserved for that agent."""
    if agent_id is not None:
        return [dict(r) for r in await conn.fetch(Q["pending_callbacks_of_agent"], agent_id)]
    return [dict(r) for r in await conn.fetch(Q["pending_callbacks"])]


async def claim_callbacks(conn: asyncpg.Connection, *, owner: str,
                          stale_s: float) -> list[dict[str, Any]]:
    """Pending callbacks no live process holds, now held by `owner` (oldest place first)."""
    rows = [dict(r) for r in await conn.fetch(Q["claim_callbacks"], owner, stale_s)]
    return sorted(rows, key=lambda r: (r["place_since"], r["id"]))


async def callback_attempt(conn: asyncpg.Connection, *, callback_id: int,
                           attempt_id: int) -> None:
    await conn.execute(Q["callback_attempt"], callback_id, attempt_id)


async def dispose_call(conn: asyncpg.Connection, *, call_id: str, disposition: str) -> None:
    await conn.execute(Q["dispose_call"], call_id, disposition)


async def recent_calls(conn: asyncpg.Connection, *, since: dt.datetime, limit: int,
                       agent_id: int | None = None) -> list[dict[str, Any]]:
    """Inbound calls since a time, newest first; with `agent_id`, only that agent's."""
    if agent_id is not None:
        rows = await conn.fetch(Q["calls_of_agent"], agent_id, since, limit)
    else:
        rows = await conn.fetch(Q["recent_calls"], since, limit)
    return [dict(r) for r in rows]


async def add_payment(conn: asyncpg.Connection, *, customer_id: int, label: str,
                      last4: str) -> int:
    return int(await conn.fetchval(Q["add_payment"], customer_id, label, last4))


async def payments_of(conn: asyncpg.Connection, customer_id: int) -> tuple[RegisteredPayment, ...]:
    return tuple(RegisteredPayment(id=r["id"], kind=r["kind"], label=r["label"],
                                   last4=r["last4"])
                 for r in await conn.fetch(Q["payments_of"], customer_id))


async def active_menu(conn: asyncpg.Connection) -> Menu:
    """The saved menu in force, else the bundled Korean one."""
    row = await conn.fetchrow(Q["active_menu"])
    if row is None:
        return load_menu()
    body = row["body"]
    return parse_menu(json.loads(body) if isinstance(body, str) else body)


async def save_menu(conn: asyncpg.Connection, *, body: dict[str, Any], actor: str) -> Menu:
    """Check and store a menu; it replaces the one in force (same transaction)."""
    menu = parse_menu(body)
    await conn.execute(Q["retire_menu"])
    await conn.execute(Q["save_menu"], json.dumps(menu.as_json(), ensure_ascii=False), actor)
    return menu


async def save_session(conn: asyncpg.Connection, *, call_id: str, customer_id: int | None,
                       started: dt.datetime, ended: dt.datetime | None, path: Sequence[str],
                       outcome: str | None, order_id: int | None, total_krw: int | None) -> None:
    await conn.execute(Q["save_session"], call_id, customer_id, started, ended, list(path),
                       outcome, order_id, total_krw)


async def list_sessions(conn: asyncpg.Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q["list_sessions"], limit)]


async def close_orphaned_calls(conn: asyncpg.Connection, *, stale_s: float) -> int:
    """Close the inbound calls and journeys of dialer processes that stopped beating;
    how many journeys were closed."""
    return len(await conn.fetch(Q["close_orphaned_calls"], stale_s))
