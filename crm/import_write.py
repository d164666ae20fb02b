"""Writing one parsed batch of an import, in one transaction.

Customers take two roads. A phone no customer has yet (nearly all of them in a first import)
is COPYed straight into `customers` with an id drawn from its sequence beforehand, and its
consent record straight into `consent_records`: no staging, no ON CONFLICT. Phones that
already exist go through the staging table and the upsert in crm/import.sql
(`merge_customers`). Which road a phone takes is decided by one index probe per batch, inside
the batch's transaction; if another session adds one of the batch's phones or external ids
between the probe and the COPY, the unique index refuses the COPY, the transaction rolls
back and the batch is merged whole instead, so the result is the same either way.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from config.sql import load_queries
from crm.parse import (
    CUSTOMER_LINE_COLUMNS,
    CUSTOMER_STAGE_COLUMNS,
    DNC_STAGE_COLUMNS,
    NULL,
    Batch,
    Issue,
)

Q = load_queries("crm", "import.sql")
log = logging.getLogger(__name__)

REF_CONFLICT = "external id belongs to a customer with another phone"
# Returns once every earlier batch of the file has committed.
Before = Callable[[], Awaitable[None]]
CONSENT_COLUMNS = ("customer_id", "granted", "channel", "purpose", "source")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass(frozen=True, kw_only=True)
class Written:
    """What a committed batch did."""

    inserted: int
    consents: int
    issues: list[Issue]  # the batch's issues plus the external ids it could not keep
    extra_warned: int  # rows warned only because of such an external id
    # The batch met customers from outside this file (existing phones or external ids):
    # probe the next batch first instead of COPYing optimistically.
    met_existing: bool


async def write_customer_batch(
    conn: asyncpg.Connection, *, batch: Batch, source: str, run_id: int,
    progress: dict[str, Any], probe: bool = True, skip_fk_check: bool = False,
    before: Before | None = None,
) -> Written:  # fmt: skip
    """Write `batch` and the run's `progress` in one transaction. Without `probe`, phones
    not seen earlier in the file are assumed new (a first import) and a unique violation
    sends the batch through the merge. `skip_fk_check` (superusers only, see
    `may_skip_fk_check`): new customers' consent records skip the foreign key check.
    `before` returns once every earlier batch of the file has committed; until then only
    phones new to the file are written."""
    before = before or _nothing_before
    try:
        async with conn.transaction():
            await conn.execute(Q["tune_batch"])
            written = await _write_split(
                conn, batch=batch, source=source, probe=probe, skip_fk_check=skip_fk_check,
                before=before,
            )  # fmt: skip
            await conn.execute(Q["update_import_run"], run_id, progress)
        return written
    except asyncpg.UniqueViolationError as exc:
        log.info("import run %d: %s; merging the batch instead", run_id, exc)
    await before()
    async with conn.transaction():
        await conn.execute(Q["tune_batch"])
        written = await _write_merged(conn, batch=batch, source=source)
        await conn.execute(Q["update_import_run"], run_id, progress)
    return written


async def _nothing_before() -> None:
    return None


async def may_skip_fk_check(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval(Q["may_skip_triggers"]))


async def write_dnc_batch(
    conn: asyncpg.Connection, *, batch: Batch, dnc_kind: str, source: str, run_id: int,
    progress: dict[str, Any],
) -> Written:  # fmt: skip
    async with conn.transaction():
        await conn.execute(Q["tune_batch"])
        await conn.copy_to_table(
            "crm_dnc_stage", source=io.BytesIO(batch.stage_text()),
            columns=list(DNC_STAGE_COLUMNS), format="text",
        )  # fmt: skip
        row = await conn.fetchrow(Q["merge_dnc"], dnc_kind, source)
        assert row is not None
        await conn.execute(Q["update_import_run"], run_id, progress)
    return Written(
        inserted=int(row["inserted"]), consents=0, issues=batch.issues, extra_warned=0,
        met_existing=True,
    )  # fmt: skip


async def _write_split(
    conn: asyncpg.Connection, *, batch: Batch, source: str, probe: bool, skip_fk_check: bool,
    before: Before,
) -> Written:  # fmt: skip
    """COPY the phones that are new (with their consent records), then merge the others."""
    phones = batch.phones
    known = {phones[i] for i in batch.known}  # committed by earlier batches of the file
    existing = known
    lines, issues, extra_warned, met = batch.lines, batch.issues, 0, False
    if probe:
        found = {r[0] for r in await conn.fetch(Q["existing_phones"], phones)}
        met = not found <= known
        existing = known | found
        if batch.has_refs:
            lines, issues, extra_warned, owners = await _drop_held_refs(conn, batch)
            met = met or not owners <= known
    if existing:
        new = [i for i, phone in enumerate(phones) if phone not in existing]
        old = [i for i, phone in enumerate(phones) if phone in existing]
    else:
        new, old = list(range(len(phones))), []
    inserted = consents = 0
    if new:
        ids: list[int] = await conn.fetchval(Q["next_customer_ids"], len(new))
        escaped = source.translate(_ESCAPES)
        tail = f"\t{escaped}\n"
        data = "".join([f"{lines[i]}\t{cid}{tail}" for i, cid in zip(new, ids, strict=True)])
        await conn.copy_to_table(
            "customers", source=io.BytesIO(data.encode()),
            columns=[*CUSTOMER_LINE_COLUMNS, "id", "source"], format="text",
        )  # fmt: skip
        # A new customer's consent value is always its first record.
        values = batch.consents
        tail = f"\tphone\tmarketing\t{escaped}\n"
        records = [
            f"{cid}\t{values[i]}{tail}"
            for i, cid in zip(new, ids, strict=True)
            if values[i] != NULL
        ]  # fmt: skip
        if records:
            # Each record's customer was inserted just above, in this transaction (and no
            # other can delete it before we commit): its foreign key holds by construction,
            # so a superuser skips the per-row check, the costliest part of the import.
            if skip_fk_check:
                await conn.execute(Q["skip_triggers"])
            await conn.copy_to_table(
                "consent_records", source=io.BytesIO("".join(records).encode()),
                columns=list(CONSENT_COLUMNS), format="text",
            )  # fmt: skip
            if skip_fk_check:
                await conn.execute(Q["skip_triggers_end"])
        inserted += len(new)
        consents += len(records)
    if old:
        # Customers that exist. If the batch before this one (maybe still being written) has
        # one of their phones or external ids, they are merged once it has committed, so
        # later rows win; else at once: the two batches touch different customers.
        if batch.touches_previous:
            await before()
        await conn.copy_to_table(
            "crm_customer_stage", source=io.BytesIO(batch.stage_text(old, lines=lines)),
            columns=list(CUSTOMER_STAGE_COLUMNS), format="text",
        )  # fmt: skip
        if batch.has_refs and not probe:
            issues, extra_warned = await _drop_stage_refs(conn, issues)
        row = await conn.fetchrow(Q["merge_customers"], source)
        assert row is not None
        inserted += int(row["inserted"])
        consents += int(row["consents"])
    return Written(
        inserted=inserted, consents=consents, issues=issues, extra_warned=extra_warned,
        met_existing=met,
    )  # fmt: skip


async def _drop_held_refs(
    conn: asyncpg.Connection, batch: Batch
) -> tuple[list[str], list[Issue], int, set[str]]:
    """External ids already held by a customer with another phone are not moved: the row
    goes in without it, with a warning. Returns the lines, the issues, newly warned rows and
    the phones holding any of the batch's external ids."""
    refs = batch.refs
    owners: dict[str, str] = {
        r[0]: r[1] for r in await conn.fetch(Q["ref_owners"], [x for x in refs if x is not None])
    }
    conflicts = [
        i for i, ref in enumerate(refs)
        if ref is not None and owners.get(ref, batch.phones[i]) != batch.phones[i]
    ]  # fmt: skip
    if not conflicts:
        return batch.lines, batch.issues, 0, set(owners.values())
    lines = list(batch.lines)
    for i in conflicts:
        lines[i] = NULL + lines[i][lines[i].index("\t") :]
    found = [(batch.line_numbers[i], refs[i] or "") for i in conflicts]
    issues, new = _with_ref_warnings(batch.issues, found)
    return lines, issues, new, set(owners.values())


def _with_ref_warnings(
    issues: list[Issue], conflicts: Sequence[tuple[int, str]]
) -> tuple[list[Issue], int]:
    """`issues` with a warning for each (line, external id) that was dropped, merged into a
    row's other warnings; and how many rows had no warning before."""
    by_line = {issue[0]: issue for issue in issues}
    new = 0
    for line, ref in conflicts:
        if line in by_line:
            old = by_line[line]
            by_line[line] = (line, f"{old[1]}; {REF_CONFLICT}", f"{old[2]}; {ref}")
        else:
            by_line[line] = (line, REF_CONFLICT, ref)
            new += 1
    return sorted(by_line.values()), new


async def _drop_stage_refs(
    conn: asyncpg.Connection, issues: list[Issue]
) -> tuple[list[Issue], int]:
    """`_drop_held_refs` for the rows in the staging table."""
    conflicts = await conn.fetch(Q["stage_ref_conflicts"])
    if not conflicts:
        return issues, 0
    await conn.execute(Q["drop_stage_refs"], [r["phone_e164"] for r in conflicts])
    return _with_ref_warnings(issues, [(r["line"], r["external_ref"]) for r in conflicts])


async def _write_merged(conn: asyncpg.Connection, *, batch: Batch, source: str) -> Written:
    """The whole batch through the staging table and the upsert."""
    await conn.copy_to_table(
        "crm_customer_stage", source=io.BytesIO(batch.stage_text()),
        columns=list(CUSTOMER_STAGE_COLUMNS), format="text",
    )  # fmt: skip
    issues, extra_warned = batch.issues, 0
    if batch.has_refs:
        issues, extra_warned = await _drop_stage_refs(conn, issues)
    row = await conn.fetchrow(Q["merge_customers"], source)
    assert row is not None
    return Written(
        inserted=int(row["inserted"]), consents=int(row["consents"]), issues=issues,
        extra_warned=extra_warned, met_existing=True,
    )  # fmt: skip
