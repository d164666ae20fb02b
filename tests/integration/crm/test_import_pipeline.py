"""Two writers give exactly what one gives: the batch pipeline of crm/importer.py.

A file full of repeats (phones within and across batches, customers from before the
import, external ids moving between phones, in adjacent batches too) is imported in tiny
batches once with one connection and once with two, into two fresh databases; customers,
consent histories, segment rows, summaries and error reports must be the same. With many
customers from before, adjacent batches often merge existing customers at the same time.
"""

from __future__ import annotations

import asyncio
import csv
import random
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from config.db import connect
from crm import importer
from crm.importer import ImportSummary, import_file
from crm.parse import ImportKind
from tests.conftest import fresh_database

HEADER = "고객번호,이름,휴대폰번호,생년월일,성별,마케팅수신동의,주소"


def messy_file(path: Path, *, rows: int, seed: int) -> Path:
    rng = random.Random(seed)
    lines = [HEADER]
    for n in range(rows):
        phone = f"010-{rng.randrange(3000, 3060)}-{rng.randrange(40):04d}"
        if rng.random() < 0.05:
            phone = rng.choice(["", "12345", "없음"])
        ref = rng.choice(["", "", f"R{rng.randrange(120)}"])
        birth = rng.choice(["", "1990.01.02", "19851231", "1990-13-45"])
        lines.append(",".join((
            ref, f"이름{n}" if rng.random() < 0.7 else "", phone, birth,
            rng.choice(["", "남", "F", "?"]), rng.choice(["", "Y", "N", "동의", "maybe"]),
            rng.choice(["", "서울 중구", "부산 해운대구"]),
        )))  # fmt: skip
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


async def run(url: str, path: Path, tmp_path: Path, *, writers: int) -> ImportSummary:
    conn = await connect(url)
    second = await connect(url) if writers == 2 else None
    try:
        return await import_file(
            conn, path=path, kind=ImportKind.CUSTOMERS, source=path.stem, actor="tester",
            report_dir=tmp_path / f"reports-{writers}", batch_rows=7, parallel=False,
            second=second,
        )  # fmt: skip
    finally:
        if second is not None:
            await second.close()
        await conn.close()


async def state(url: str) -> dict[str, Any]:
    conn: asyncpg.Connection = await connect(url)
    try:
        customers = await conn.fetch(
            "SELECT phone_e164, external_ref, name, birth_date, gender, consent_marketing,"
            " region, source FROM customers ORDER BY phone_e164"
        )
        consents = await conn.fetch(
            "SELECT c.phone_e164, r.granted, r.source FROM consent_records r"
            " JOIN customers c ON c.id = r.customer_id ORDER BY c.phone_e164, r.id"
        )
        facts = await conn.fetch(
            "SELECT c.phone_e164, f.region, f.gender, f.birth_date, f.consent_marketing"
            " FROM customer_facts f JOIN customers c USING (id) ORDER BY c.phone_e164"
        )
    finally:
        await conn.close()
    return {
        "customers": [tuple(r) for r in customers],
        "consents": [tuple(r) for r in consents],
        "facts": [tuple(r) for r in facts],
    }


def report(summary: ImportSummary) -> list[list[str]]:
    with open(summary.error_report, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def shuffled_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch starts after a random pause, so a batch often overtakes the one before
    it: what the pipeline must order, it orders itself, not by luck of timing."""
    write_batch = importer._write_batch
    rng = random.Random(7)

    async def late_write_batch(*args: Any, **kw: Any) -> Any:
        await asyncio.sleep(rng.choice([0, 0, 0.002, 0.01, 0.02]))
        return await write_batch(*args, **kw)

    monkeypatch.setattr(importer, "_write_batch", late_write_batch)


@pytest.mark.usefixtures("shuffled_starts")
@pytest.mark.parametrize(
    ("seed", "existing"),
    # existing: rows in the file imported before, i.e. how often a row meets a customer
    # from before the import (~1 in 40, or ~1 in 2: a re-import).
    [(1, 60), (2, 60), (3, 60), (4, 1500), (5, 1500)],
)
async def test_two_writers_give_what_one_gives(
    server_url: str, template_url: str, tmp_path: Path, seed: int, existing: int
) -> None:
    before = messy_file(tmp_path / "before.csv", rows=existing, seed=seed + 100)
    path = messy_file(tmp_path / "main.csv", rows=400, seed=seed)
    results = []
    async with fresh_database(server_url) as one, fresh_database(server_url) as two:
        for url, writers in ((one, 1), (two, 2)):
            await run(url, before, tmp_path, writers=1)  # customers from before the import
            summary = await run(url, path, tmp_path, writers=writers)
            results.append((summary.as_json() | {"error_report": ""}, report(summary),
                            await state(url)))  # fmt: skip
    (summary_1, report_1, state_1), (summary_2, report_2, state_2) = results
    assert summary_1["rows"] == 400
    assert summary_1["updated"] > 0
    assert summary_1["warnings"] > 0
    assert summary_2 == summary_1
    assert report_2 == report_1
    assert state_2 == state_1


async def test_a_shared_external_id_waits_even_for_a_known_phone(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch 3 merges a customer from batch 1 and names the external id that batch 2 gives
    a new customer. Batch 2 is slowed down so batch 3 would overtake it; it must not: the
    id stays with batch 2's customer and batch 3's row is warned, as one by one."""
    write_batch = importer._write_batch

    async def slow_second(*args: Any, **kw: Any) -> Any:
        if "+821077770002" in kw["batch"].phones:
            await asyncio.sleep(0.3)
        return await write_batch(*args, **kw)

    monkeypatch.setattr(importer, "_write_batch", slow_second)
    path = tmp_path / "in.csv"
    path.write_text(
        "고객번호,휴대폰번호,이름\r\n,010-7777-0001,갑\r\nR9,010-7777-0002,을\r\n"
        "R9,010-7777-0001,병\r\n",
        encoding="utf-8",
    )
    conn = await connect(db_url)
    second = await connect(db_url)
    try:
        summary = await import_file(
            conn, path=path, kind=ImportKind.CUSTOMERS, source="t", actor="tester",
            report_dir=tmp_path, batch_rows=1, parallel=False, second=second,
        )  # fmt: skip
        rows = await conn.fetch("SELECT phone_e164, external_ref, name FROM customers ORDER BY 1")
    finally:
        await second.close()
        await conn.close()
    assert [tuple(r) for r in rows] == [
        ("+821077770001", None, "병"), ("+821077770002", "R9", "을"),
    ]  # fmt: skip
    assert report(summary)[1:] == [
        ["4", "duplicate phone: merged into line 2; external id belongs to a customer "
         "with another phone", "010-7777-0001; R9"],
    ]
