"""Customer and do-not-call imports against a real PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import asyncpg
import pytest

from cli.bench.import_customers import generate_customer_file
from crm.errors import ImportFailed
from crm.importer import ImportSummary, import_file
from crm.parse import ImportKind

HEADER = "고객번호,이름,휴대폰번호,이메일,생년월일,성별,마케팅수신동의,주소,비고"


def write(tmp_path: Path, lines: list[str], encoding: str = "utf-8", name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


async def run(
    pool: asyncpg.Pool, path: Path, tmp_path: Path, kind: ImportKind = ImportKind.CUSTOMERS,
    **kw: object,
) -> ImportSummary:  # fmt: skip
    async with pool.acquire() as conn:
        return await import_file(
            conn, path=path, kind=kind, source=kw.pop("source", "test"),  # type: ignore[arg-type]
            actor="tester", report_dir=tmp_path / "reports", **kw,  # type: ignore[arg-type]
        )  # fmt: skip


def report_rows(summary: ImportSummary) -> list[list[str]]:
    with open(summary.error_report, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def balanced(s: ImportSummary) -> bool:
    return s.rows == s.imported + s.updated + s.duplicates + s.invalid


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr", "utf-16"])
async def test_import_counts_fields_consent_and_bookkeeping(
    pool: asyncpg.Pool, tmp_path: Path, encoding: str
) -> None:
    path = write(tmp_path, [
        HEADER,
        "A1,홍길동,010-1234-5678,hong@example.kr,1990.01.02,남,Y,서울 강남구 테헤란로 1,vip",
        "A2,김영희,+82 10 2222 3333,,19851231,여성,미동의,경기 성남시,",
        "A3,무명,12345,,,,,,",
        "A4,박철수,010 1234 5678,,1990-13-01,X,maybe,,",
        "A5,이순신,(02) 123-4567,,,,,,",
    ], encoding)  # fmt: skip
    s = await run(pool, path, tmp_path)
    assert s.as_json() | {"error_report": ""} == {
        "rows": 5, "imported": 3, "updated": 0, "duplicates": 1, "invalid": 1, "warnings": 1,
        "error_report": "", "unknown_columns": ["비고"],
    }  # fmt: skip
    assert report_rows(s) == [
        ["line", "reason", "value"],
        ["4", "invalid phone number", "12345"],
        ["5", "birth date unreadable; gender unreadable; marketing consent unreadable; "
         "duplicate phone: merged into line 2", "1990-13-01; X; maybe; 010 1234 5678"],
    ]  # fmt: skip
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT external_ref, name, phone_e164, phone_type, email, region, birth_date::text,"
            " gender, consent_marketing, source FROM customers ORDER BY phone_e164"
        )
        consents = await conn.fetch(
            "SELECT c.phone_e164, r.granted, r.source, r.channel, r.purpose"
            " FROM consent_records r JOIN customers c ON c.id = r.customer_id ORDER BY 1"
        )
        run_row = await conn.fetchrow("SELECT * FROM import_runs")
        audit = await conn.fetchrow("SELECT * FROM audit_log")
    assert [tuple(r) for r in rows] == [
        # A4 repeats A1's phone: later non-empty cells win, unreadable ones do not erase.
        ("A4", "박철수", "+821012345678", "mobile", "hong@example.kr", "서울특별시",
         "1990-01-02", "M", True, "test"),
        ("A2", "김영희", "+821022223333", "mobile", None, "경기도", "1985-12-31", "F", False,
         "test"),
        ("A5", "이순신", "+8221234567", "fixed_line", None, None, None, None, False, "test"),
    ]  # fmt: skip
    assert [tuple(r) for r in consents] == [
        ("+821012345678", True, "test", "phone", "marketing"),
        ("+821022223333", False, "test", "phone", "marketing"),
    ]
    assert run_row is not None
    assert run_row["finished_at"] is not None
    assert run_row["summary"]["rows"] == 5
    assert audit is not None
    assert (audit["action"], audit["actor"]) == ("import.customers", "tester")
    assert audit["details"]["imported"] == 3


async def test_reimport_updates_and_never_adds_a_second_customer(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    first = write(tmp_path, [HEADER, "A1,홍길동,010-1234-5678,,,,Y,,"], name="a.csv")
    await run(pool, first, tmp_path)
    second = write(tmp_path, [
        HEADER,
        "A1,,+821012345678,new@example.kr,,,N,부산 해운대구,",
        "B1,새고객,010-9999-0000,,,,,,",
    ], name="b.csv")  # fmt: skip
    s = await run(pool, second, tmp_path, source="crm2")
    assert (s.rows, s.imported, s.updated, s.duplicates) == (2, 1, 1, 0)
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM customers WHERE phone_e164 = '+821012345678'")
        count = await conn.fetchval("SELECT count(*) FROM customers")
        history = await conn.fetch(
            "SELECT granted, source FROM consent_records WHERE customer_id = $1 ORDER BY id",
            row["id"],
        )
    assert count == 2
    assert (row["name"], row["email"], row["region"]) == ("홍길동", "new@example.kr", "부산광역시")
    assert row["consent_marketing"] is False
    assert [tuple(h) for h in history] == [(True, "test"), (False, "crm2")]
    # The same file again: all updates, and no new consent record (nothing changed); the
    # rows are not even rewritten (same row version, same updated_at).
    version = "SELECT xmin::text, updated_at FROM customers ORDER BY phone_e164"
    async with pool.acquire() as conn:
        before = await conn.fetch(version)
    again = await run(pool, second, tmp_path, source="crm2")
    assert (again.imported, again.updated, again.consents) == (0, 2, 0)
    async with pool.acquire() as conn:
        assert await conn.fetch(version) == before
    # From another source, the same consent is recorded again (who said it, and when),
    # though the customer stays as it was.
    other = await run(pool, second, tmp_path, source="crm3")
    assert (other.imported, other.updated, other.consents) == (0, 2, 1)
    async with pool.acquire() as conn:
        assert await conn.fetch(version) == before
        history = await conn.fetch(
            "SELECT granted, source FROM consent_records WHERE customer_id = $1 ORDER BY id",
            row["id"],
        )
    assert [tuple(h) for h in history] == [(True, "test"), (False, "crm2"), (False, "crm3")]


async def test_duplicates_across_batches(pool: asyncpg.Pool, tmp_path: Path) -> None:
    lines = [HEADER] + [f"R{i},이름{i},010-2000-{i:04d},,,,Y,," for i in range(10)]
    lines += ["R0,,010-2000-0000,,,,N,,", "R3,,01020000003,,,,,,"]
    s = await run(pool, write(tmp_path, lines), tmp_path, batch_rows=4)
    assert (s.rows, s.imported, s.updated, s.duplicates, s.batches) == (12, 10, 0, 2, 3)
    assert balanced(s)
    async with pool.acquire() as conn:
        consent = await conn.fetchval(
            "SELECT consent_marketing FROM customers WHERE external_ref = 'R0'"
        )
    assert consent is False


async def test_external_id_held_by_another_phone_is_not_moved(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await run(pool, write(tmp_path, [HEADER, "X1,가,010-1111-2222,,,,,,"], name="a.csv"), tmp_path)
    s = await run(
        pool, write(tmp_path, [HEADER, "X1,나,010-3333-4444,,,,,,"], name="b.csv"), tmp_path
    )
    assert (s.imported, s.warnings) == (1, 1)
    assert report_rows(s)[1] == ["2", "external id belongs to a customer with another phone", "X1"]
    async with pool.acquire() as conn:
        refs = await conn.fetch("SELECT phone_e164, external_ref FROM customers ORDER BY 1")
    assert [tuple(r) for r in refs] == [("+821011112222", "X1"), ("+821033334444", None)]


async def test_file_without_phone_column_fails(pool: asyncpg.Pool, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="no phone column"):
        await run(pool, write(tmp_path, ["이름,주소", "홍길동,서울"]), tmp_path)


async def test_parallel_parser_process_gives_the_same_result(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    generated = generate_customer_file(tmp_path / "gen.csv", rows=3000, seed=3)
    s = await run(pool, generated.path, tmp_path, parallel=True, batch_rows=700)
    assert balanced(s)
    assert (s.imported, s.invalid) == (generated.customers, generated.invalid)
    assert s.duplicates == generated.duplicates
    assert s.unknown_columns == ["가입일"]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM customers") == generated.customers


async def test_dnc_import_kinds_and_rerun(pool: asyncpg.Pool, tmp_path: Path) -> None:
    path = write(tmp_path, ["010-1111-2222", "01011112222", "nope", "+82 10 3333 4444"])
    s = await run(pool, path, tmp_path, ImportKind.DNC, source="ftc-2024-05")
    assert (s.rows, s.imported, s.duplicates, s.invalid) == (4, 2, 1, 1)
    assert report_rows(s)[1] == ["3", "invalid phone number", "nope"]
    again = await run(pool, path, tmp_path, ImportKind.DNC, dnc_kind="financial")
    assert again.imported == 2
    third = await run(pool, path, tmp_path, ImportKind.DNC)
    assert (third.imported, third.updated) == (0, 2)
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT phone_e164, kind FROM do_not_call ORDER BY 1, 2")
        action = await conn.fetchval("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1")
    assert [tuple(r) for r in rows] == [
        ("+821011112222", "financial"), ("+821011112222", "national"),
        ("+821033334444", "financial"), ("+821033334444", "national"),
    ]  # fmt: skip
    assert action == "import.dnc"
