"""Reading customers: a searchable page, one customer with consents and do-not-call status,
and the CSV export."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from config.sql import load_queries
from crm.errors import CustomerNotFound
from crm.phones import normalize

Q = load_queries("crm")
MAX_PAGE = 500
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, kw_only=True)
class CustomerRow:
    id: int
    external_ref: str | None
    name: str
    phone_e164: str
    phone_type: str
    email: str | None
    region: str | None
    birth_date: dt.date | None
    gender: str | None
    consent_marketing: bool
    consent_night: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "external_ref": self.external_ref, "name": self.name,
            "phone_e164": self.phone_e164, "phone_type": self.phone_type, "email": self.email,
            "region": self.region,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "gender": self.gender, "consent_marketing": self.consent_marketing,
            "consent_night": self.consent_night, "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class CustomerPage:
    items: list[CustomerRow]
    next: int | None  # cursor of the following page


def _search_args(q: str | None) -> tuple[str | None, str | None, str | None, str | None]:
    """(exact phone, phone LIKE pattern, name/email ILIKE pattern, external ref) for `q`."""
    q = (q or "").strip()
    if not q:
        return None, None, None, None
    phone = normalize(q)
    if phone is not None:
        return phone.e164, None, None, None
    digits = "".join(_DIGITS.findall(q))
    if digits and len(digits) >= 3 and not re.search(r"[^\d\s().+-]", q):
        # A national-style fragment "010-12" is "+8210 12…" in E.164.
        if digits.startswith("0"):
            return None, "+82" + digits[1:] + "%", None, None
        return None, "%" + digits + "%", None, None
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return None, None, f"%{escaped}%", q


async def list_customers(
    conn: asyncpg.Connection, *, limit: int = 50, cursor: int | None = None, q: str | None = None
) -> CustomerPage:
    """Customers by id; `cursor` is the previous page's `next`; `q` searches phones (any
    form, or a fragment of digits), names, emails and external ids."""
    limit = max(1, min(limit, MAX_PAGE))
    exact, like, text, ref = _search_args(q)
    rows = await conn.fetch(Q["list_customers"], cursor or 0, limit + 1, exact, like, text, ref)
    items = [CustomerRow(**dict(r)) for r in rows[:limit]]
    return CustomerPage(items=items, next=items[-1].id if len(rows) > limit else None)


async def count_customers(conn: asyncpg.Connection, *, q: str | None = None) -> int:
    """How many customers `list_customers` would page through for `q`."""
    exact, like, text, ref = _search_args(q)
    found: int = await conn.fetchval(Q["count_matching_customers"], exact, like, text, ref)
    return found


async def regions_present(conn: asyncpg.Connection) -> list[str]:
    """Every region some customer has, in order (for pickers)."""
    return [r["region"] for r in await conn.fetch(Q["regions_present"])]


async def contact_history(
    conn: asyncpg.Connection, *, customer_id: int, limit: int = 200
) -> list[dict[str, Any]]:
    """The customer's contacts (calls), newest first."""
    return [dict(r) for r in await conn.fetch(Q["contact_history"], customer_id, limit)]


async def names_of(conn: asyncpg.Connection, *, customer_ids: list[int]) -> dict[int, str]:
    if not customer_ids:
        return {}
    return {r["id"]: r["name"] for r in await conn.fetch(Q["names_of"], customer_ids)}


async def lookup_phone(conn: asyncpg.Connection, *, phone_e164: str) -> dict[str, Any]:
    """What an agent may see about one number before dialing it by hand: the customer's
    name and region (if any), consents, and whether it is on a do-not-call list. Nothing
    else of the base (an agent sees the customer it calls, not the base)."""
    row = await conn.fetchrow(Q["lookup_phone"], phone_e164)
    if row is None:
        dnc = bool(await conn.fetchval(Q["number_on_dnc"], phone_e164))
        return {"phone": phone_e164, "customer": None, "dnc": dnc}
    return {"phone": phone_e164, "dnc": row["dnc"],
            "customer": {"id": row["id"], "name": row["name"], "region": row["region"],
                         "consent_marketing": row["consent_marketing"],
                         "consent_night": row["consent_night"]}}  # fmt: skip


async def get_customer(conn: asyncpg.Connection, *, customer_id: int) -> dict[str, Any]:
    """One customer with every field, the consent history and the do-not-call entries."""
    row = await conn.fetchrow(Q["get_customer"], customer_id)
    if row is None:
        raise CustomerNotFound(str(customer_id))
    customer: dict[str, Any] = {
        k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in row.items()
    }
    consents = await conn.fetch(Q["customer_consents"], customer_id)
    customer["consents"] = [{**dict(c), "at": c["at"].isoformat()} for c in consents]
    entries = await conn.fetch(Q["dnc_entries"], row["phone_e164"])
    customer["do_not_call"] = {
        "listed": bool(entries),
        "entries": [
            {"kind": e["kind"], "source": e["source"],
             "registered_on": e["registered_on"].isoformat(),
             "added_at": e["added_at"].isoformat()}
            for e in entries
        ],
    }  # fmt: skip
    return customer


@dataclass(frozen=True, kw_only=True, slots=True)
class CustomerCard:
    """What an agent's screen pop shows of the customer on the line."""

    id: int
    name: str
    phone_e164: str
    email: str | None
    address: str | None
    postal_code: str | None
    region: str | None
    tz: str | None
    consent_marketing: bool
    consent_night: bool


async def customer_card(conn: asyncpg.Connection, *, customer_id: int) -> CustomerCard | None:
    row = await conn.fetchrow(Q["customer_card"], customer_id)
    return CustomerCard(**dict(row)) if row is not None else None


async def export_customers(conn: asyncpg.Connection, *, path: Path, actor: str) -> int:
    """Write every customer to `path` as UTF-8 CSV with a header; audit it. Returns the count.

    Streams with COPY, so the size of the customer base does not matter."""
    result = await conn.copy_from_query(
        Q["export_customers"], output=path, format="csv", header=True, encoding="utf-8"
    )
    count = int(result.split()[-1]) if result else 0
    await conn.execute(Q["insert_audit"], actor, "customers.export", str(path), {"count": count})
    return count
