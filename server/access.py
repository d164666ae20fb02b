"""Who may read or change which record, beyond the role of the route (least privilege).

- An agent reads the customer of a call it is on and of its own callbacks
  (dialer/store/access.py asks the dialer's durable state), its own orders, and may cancel
  or return only those. Placing an order is open to agents for any customer id (an order
  shows back only what the agent typed); reading the customer is not.
- Supervisors, marketers, logistics staff and admins read what their routes allow.
- Every read of customers' personal data by staff (a customer, a list of customers, orders
  and shipments with delivery details) writes a row to audit_log: who, what, which ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg

from dialer.store.access import agent_may_read_customer
from server.auth import Role, User
from server.errors import ApiError

AUDIT = "INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4)"
MAX_AUDITED_IDS = 200  # ids listed in one audit row; a longer page records its first and count


def forbidden(what: str) -> ApiError:
    return ApiError(403, "forbidden", f"{what} is not one of your calls, callbacks or orders")


async def check_customer(conn: asyncpg.Connection, user: User, customer_id: int) -> None:
    """Agents: only the customer of a call they are on or of their own callbacks."""
    if user.role is Role.AGENT and not await agent_may_read_customer(
        conn, agent_id=user.id, customer_id=customer_id
    ):
        raise forbidden(f"customer {customer_id}")


def check_order(user: User, order_id: int, agent_id: int | None) -> None:
    """Agents: only orders they placed."""
    if user.role is Role.AGENT and agent_id != user.id:
        raise forbidden(f"order {order_id}")


def orders_scope(user: User, agent_id: int | None) -> int | None:
    """The agent filter of an order list: an agent sees its own orders only."""
    if user.role is not Role.AGENT:
        return agent_id
    if agent_id is not None and agent_id != user.id:
        raise ApiError(403, "forbidden", "an agent lists its own orders only", field="agent_id")
    return user.id


async def audit_read(
    conn: asyncpg.Connection, user: User, what: str, ids: Iterable[int], **details: Any
) -> None:
    """One audit row for a read of personal data: `what` is e.g. "customer", "orders"."""
    listed = list(ids)
    body: dict[str, Any] = {"role": user.role.value, "count": len(listed),
                            "ids": listed[:MAX_AUDITED_IDS], **details}  # fmt: skip
    subject = str(listed[0]) if len(listed) == 1 else None
    await conn.execute(AUDIT, f"user:{user.username}", f"read.{what}", subject, body)
