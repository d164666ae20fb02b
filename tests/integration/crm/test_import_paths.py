"""The import's two roads: new phones COPYed directly, existing ones merged (crm/import_write)."""

from __future__ import annotations

import logging
from pathlib import Path

import asyncpg
import pytest

from crm.importer import ImportSummary, import_file
from crm.parse import ImportKind
from tests.integration.crm.test_import import HEADER, balanced, report_rows, run, write


async def test_optimistic_batch_meeting_an_existing_phone_is_merged(
    pool: asyncpg.Pool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = write(tmp_path, [HEADER, "OLD,기존,010-5000-0009,,,,Y,,"], name="a.csv")
    await run(pool, first, tmp_path)
    # Batch 1 (probed) is all new, so batch 2 is written without a probe: it meets the
    # customer above through the unique index and is merged instead.
    lines = [HEADER] + [f"N{i},새{i},010-5000-{i:04d},,,,N,," for i in range(8)]
    lines += ["", "OLD,,010-5000-0009,,,,N,,"]
    with caplog.at_level(logging.INFO, logger="crm.import_write"):
        s = await run(pool, write(tmp_path, lines, name="b.csv"), tmp_path, batch_rows=4)
    assert [r.message for r in caplog.records if "merging the batch" in r.message] != []
    assert (s.rows, s.imported, s.updated, s.duplicates, s.invalid, s.batches) == (9, 8, 1, 0, 0, 3)
    assert balanced(s)
    async with pool.acquire() as conn:
        count = await conn.fetchval("SELECT count(*) FROM customers")
        old = await conn.fetchrow(
            "SELECT name, consent_marketing FROM customers WHERE external_ref = 'OLD'"
        )
        history = await conn.fetch(
            "SELECT r.granted FROM consent_records r JOIN customers c ON c.id = r.customer_id"
            " WHERE c.external_ref = 'OLD' ORDER BY r.id"
        )
        refused = await conn.fetchval(
            "SELECT count(*) FROM consent_records WHERE source = 'test' AND NOT granted"
        )
    assert count == 9
    assert old is not None
    assert (old["name"], old["consent_marketing"]) == ("기존", False)
    assert [r["granted"] for r in history] == [True, False]
    assert refused == 9  # eight new customers and the changed one


async def test_optimistic_batch_meeting_a_held_external_id_keeps_it_with_its_owner(
    pool: asyncpg.Pool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = write(tmp_path, [HEADER, "HELD,가,010-6000-9999,,,,,,"], name="a.csv")
    await run(pool, first, tmp_path)
    lines = [HEADER] + [f"M{i},이{i},010-6000-{i:04d},,,,Y,," for i in range(4)]
    lines += ["HELD,나,010-6000-0100,,,,Y,,", "M9,다,010-6000-0101,,,,,,"]
    with caplog.at_level(logging.INFO, logger="crm.import_write"):
        s = await run(pool, write(tmp_path, lines, name="b.csv"), tmp_path, batch_rows=4)
    assert [r.message for r in caplog.records if "merging the batch" in r.message] != []
    assert (s.rows, s.imported, s.updated, s.warnings, s.consents) == (6, 6, 0, 1, 5)
    assert report_rows(s)[1:] == [
        ["6", "external id belongs to a customer with another phone", "HELD"]
    ]
    async with pool.acquire() as conn:
        refs = await conn.fetch(
            "SELECT phone_e164, external_ref FROM customers WHERE phone_e164 IN"
            " ('+821060009999', '+821060000100') ORDER BY 1"
        )
    assert [tuple(r) for r in refs] == [("+821060000100", None), ("+821060009999", "HELD")]


async def test_repeats_of_earlier_batches_and_new_phones_in_one_batch(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    lines = [HEADER, "R1,하나,010-7000-0001,,,,Y,,", "R2,둘,010-7000-0002,,,,,,"]
    lines += ["R1,,010-7000-0001,a@b.kr,,,N,부산 중구,", "R3,셋,010-7000-0003,,,,Y,,"]
    s = await run(pool, write(tmp_path, lines), tmp_path, batch_rows=2)
    assert (s.rows, s.imported, s.updated, s.duplicates) == (4, 3, 0, 1)
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM customers WHERE external_ref = 'R1'")
        history = await conn.fetch(
            "SELECT granted FROM consent_records WHERE customer_id = $1 ORDER BY id", row["id"]
        )
        facts = await conn.fetchrow("SELECT * FROM customer_facts WHERE id = $1", row["id"])
    assert (row["name"], row["email"], row["region"], row["consent_marketing"]) == (
        "하나", "a@b.kr", "부산광역시", False,
    )  # fmt: skip
    assert [r["granted"] for r in history] == [True, False]
    assert facts is not None
    assert (facts["region"], facts["consent_marketing"]) == ("부산광역시", False)


async def test_without_superuser_the_consent_foreign_key_is_checked(
    pool: asyncpg.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no(_conn: asyncpg.Connection) -> bool:
        return False

    monkeypatch.setattr("crm.importer.may_skip_fk_check", no)
    lines = [HEADER] + [f"F{i},사{i},010-8000-{i:04d},,,,Y,," for i in range(6)]
    s = await run(pool, write(tmp_path, lines), tmp_path, batch_rows=3)
    assert (s.imported, s.consents) == (6, 6)
    async with pool.acquire() as conn:
        orphans = await conn.fetchval(
            "SELECT count(*) FROM consent_records r"
            " WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = r.customer_id)"
        )
        replica = await conn.fetchval("SHOW session_replication_role")
    assert orphans == 0
    assert replica == "origin"


async def test_superuser_skip_leaves_no_orphans_and_restores_triggers(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    lines = [HEADER] + [f"G{i},오{i},010-8100-{i:04d},,,,N,서울 중구,," for i in range(5)]
    async with pool.acquire() as conn:
        s = await import_file_on(conn, write(tmp_path, lines), tmp_path)
        replica = await conn.fetchval("SHOW session_replication_role")
        facts = await conn.fetchval("SELECT count(*) FROM customer_facts")
        orphans = await conn.fetchval(
            "SELECT count(*) FROM consent_records r"
            " WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = r.customer_id)"
        )
    assert (s.imported, s.consents) == (5, 5)
    assert (replica, facts, orphans) == ("origin", 5, 0)


async def import_file_on(conn: asyncpg.Connection, path: Path, tmp_path: Path) -> ImportSummary:
    return await import_file(
        conn, path=path, kind=ImportKind.CUSTOMERS, source="test", actor="tester",
        report_dir=tmp_path / "reports", batch_rows=2,
    )  # fmt: skip
