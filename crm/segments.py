"""Segments: preview a filter (count and a masked sample), save it, read it back.

A dynamic segment keeps its filter and is re-evaluated whenever it is used; a static
segment freezes its members at save time (`segment_members`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any

import asyncpg
import phonenumbers

from config.sql import load_queries
from crm.errors import SegmentNotFound
from crm.segments_filter import CompiledFilter, compile_filter, parse_filter

Q = load_queries("crm", "segments.sql")
SAMPLE_SIZE = 20
# Segment queries are short: compiling them with JIT costs more (~0.4 s) than it saves.
# Enough memory that "bought …" and disposition sets stay hashed in memory.
NO_JIT = "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'"


class SegmentKind(enum.StrEnum):
    DYNAMIC = "dynamic"
    STATIC = "static"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Segment:
    id: int
    name: str
    kind: SegmentKind
    filter: dict[str, Any]
    member_count: int | None
    created_by: str
    created_at: dt.datetime
    snapshot_at: dt.datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "kind": self.kind.value, "filter": self.filter,
            "member_count": self.member_count, "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "snapshot_at": self.snapshot_at.isoformat() if self.snapshot_at else None,
        }  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SampleCustomer:
    id: int
    name: str
    phone_masked: str
    region: str | None
    gender: str | None
    age: int | None
    consent_marketing: bool
    consent_night: bool
    order_count: int
    total_spend_krw: int
    last_purchase_at: dt.datetime | None
    rfm: str | None  # "R-F-M", e.g. "5-3-4"; None before the first purchase


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Preview:
    count: int
    sample: tuple[SampleCustomer, ...]


def mask_phone(phone_e164: str) -> str:
    """+821012345678 → '+82 10-****-5678': the country code, the first group and the
    last four digits stay; every other digit becomes '*'."""
    try:
        number = phonenumbers.parse(phone_e164)
        shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        shown = phone_e164
    head, sep, rest = shown.partition(" ")
    if not sep:  # not a formattable number: keep only the last four digits
        return "*" * max(0, len(shown) - 4) + shown[-4:]
    groups = rest.replace(" ", "-").split("-")
    if len(groups) < 3:
        digits = rest.replace(" ", "").replace("-", "")
        return f"{head} " + "*" * max(0, len(digits) - 4) + digits[-4:]
    middle = ["*" * len(g) for g in groups[1:-1]]
    return f"{head} " + "-".join([groups[0], *middle, groups[-1]])


def age_on(birth_date: dt.date | None, today: dt.date) -> int | None:
    if birth_date is None:
        return None
    had_birthday = (today.month, today.day) >= (birth_date.month, birth_date.day)
    return today.year - birth_date.year - (0 if had_birthday else 1)


def compile_document(doc: Any, *, first_param: int = 1) -> CompiledFilter:
    """Parse and compile a filter document (`SegmentFilterError` on bad input)."""
    return compile_filter(parse_filter(doc), first_param=first_param)


def _sql(name: str, compiled: CompiledFilter, **extra: object) -> str:
    return Q[name].format(source=compiled.from_clause, where=compiled.where, **extra)


async def count_matching(conn: asyncpg.Connection, *, compiled: CompiledFilter) -> int:
    count = await conn.fetchval(_sql("count_matching", compiled), *compiled.params)
    return int(count)


async def preview(
    conn: asyncpg.Connection, *, filter_doc: Any, sample_size: int = SAMPLE_SIZE
) -> Preview:
    """How many customers match, and the first `sample_size` of them (phones masked)."""
    compiled = compile_document(filter_doc)
    async with conn.transaction():
        await conn.execute(NO_JIT)
        count = await count_matching(conn, compiled=compiled)
        rows: list[asyncpg.Record] = []
        if count:
            query = _sql("sample_matching", compiled, limit=len(compiled.params) + 1)
            rows = await conn.fetch(query, *compiled.params, sample_size)
    sample: list[SampleCustomer] = []
    today = dt.datetime.now(dt.UTC).date()
    if rows:
        for row in rows:
            rfm = None
            if row["rfm_r"] is not None:
                rfm = f"{row['rfm_r']}-{row['rfm_f']}-{row['rfm_m']}"
            sample.append(SampleCustomer(
                id=row["id"], name=row["name"], phone_masked=mask_phone(row["phone_e164"]),
                region=row["region"], gender=row["gender"], age=age_on(row["birth_date"], today),
                consent_marketing=row["consent_marketing"], consent_night=row["consent_night"],
                order_count=row["order_count"] or 0, total_spend_krw=row["total_spend_krw"] or 0,
                last_purchase_at=row["last_purchase_at"], rfm=rfm,
            ))  # fmt: skip
    return Preview(count=count, sample=tuple(sample))


def _segment(row: asyncpg.Record) -> Segment:
    return Segment(
        id=row["id"], name=row["name"], kind=SegmentKind(row["kind"]), filter=row["filter"],
        member_count=row["member_count"], created_by=row["created_by"],
        created_at=row["created_at"], snapshot_at=row["snapshot_at"],
    )  # fmt: skip


async def save_segment(
    conn: asyncpg.Connection, *, name: str, kind: SegmentKind, filter_doc: Any, actor: str
) -> Segment:
    """Save a segment; a static one snapshots its members now."""
    compiled = compile_document(filter_doc)
    async with conn.transaction():
        await conn.execute(NO_JIT)
        if kind is SegmentKind.DYNAMIC:
            count = await count_matching(conn, compiled=compiled)
            row = await conn.fetchrow(Q["insert_segment"], name, kind.value, filter_doc, count,
                                      actor, None)
            assert row is not None
            return _segment(row)
        row = await conn.fetchrow(Q["insert_segment"], name, kind.value, filter_doc, None, actor,
                                  dt.datetime.now(dt.UTC))
        assert row is not None
        shifted = compile_document(filter_doc, first_param=2)
        status = await conn.execute(_sql("insert_static_members", shifted), row["id"],
                                    *shifted.params)
        count = int(status.split()[-1])
        await conn.execute(Q["set_member_count"], row["id"], count)
    return dataclasses.replace(_segment(row), member_count=count)


async def update_segment(
    conn: asyncpg.Connection, *, segment_id: int, name: str, kind: SegmentKind, filter_doc: Any
) -> Segment:
    """Edit a saved segment; a static one takes a new snapshot of its members now."""
    compiled = compile_document(filter_doc)
    async with conn.transaction():
        await conn.execute(NO_JIT)
        await conn.execute(Q["clear_static_members"], segment_id)
        if kind is SegmentKind.DYNAMIC:
            count = await count_matching(conn, compiled=compiled)
            row = await conn.fetchrow(Q["update_segment"], segment_id, name, kind.value,
                                      filter_doc, count, None)  # fmt: skip
            if row is None:
                raise SegmentNotFound(f"segment {segment_id}")
            return _segment(row)
        row = await conn.fetchrow(Q["update_segment"], segment_id, name, kind.value, filter_doc,
                                  None, dt.datetime.now(dt.UTC))  # fmt: skip
        if row is None:
            raise SegmentNotFound(f"segment {segment_id}")
        shifted = compile_document(filter_doc, first_param=2)
        status = await conn.execute(_sql("insert_static_members", shifted), segment_id,
                                    *shifted.params)  # fmt: skip
        count = int(status.split()[-1])
        await conn.execute(Q["set_member_count"], segment_id, count)
    return dataclasses.replace(_segment(row), member_count=count)


async def list_segments(conn: asyncpg.Connection) -> list[Segment]:
    return [_segment(row) for row in await conn.fetch(Q["list_segments"])]


async def get_segment(conn: asyncpg.Connection, *, segment_id: int) -> Segment:
    row = await conn.fetchrow(Q["get_segment"], segment_id)
    if row is None:
        raise SegmentNotFound(f"segment {segment_id}")
    return _segment(row)


async def delete_segment(conn: asyncpg.Connection, *, segment_id: int) -> None:
    if await conn.fetchval(Q["delete_segment"], segment_id) is None:
        raise SegmentNotFound(f"segment {segment_id}")


def member_ids_sql(segment: Segment, *, first_param: int = 1) -> tuple[str, tuple[Any, ...]]:
    """A sub-select `SELECT … AS id` of the segment's customers now, with its parameters
    numbered from `first_param` (list building embeds it)."""
    if segment.kind is SegmentKind.STATIC:
        return Q["static_member_ids"].format(n=first_param), (segment.id,)
    compiled = compile_document(segment.filter, first_param=first_param)
    return _sql("matching_ids", compiled), compiled.params
