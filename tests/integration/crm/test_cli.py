"""`telemart import` and `telemart customers export` as a user runs them, interruption included."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from config.db import connect
from crm.parse import FIRST_BATCH_ROWS

BATCH = 5000
# Enough batches that the import cannot finish between batch 3 and the signal.
ROWS = 200_000
LINE_TIMEOUT_S = 60.0


def cli_env(db_url: str, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(TELEMART_DATABASE_URL=db_url, TELEMART_HOME=str(home), TELEMART_LOG_LEVEL="INFO")
    return env


async def telemart(db_url: str, home: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", *args, env=cli_env(db_url, home),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text(encoding="utf-8").splitlines()))


def complete_file(path: Path, rows: int) -> None:
    """Every row valid, distinct and complete, so committed batches are easy to count."""
    with path.open("w", encoding="cp949", newline="") as fh:
        fh.write("고객번호,이름,휴대폰,생년월일,성별,수신동의,주소\r\n")
        for i in range(rows):
            fh.write(f"K{i},고객{i},010-{3000 + i // 10000:04d}-{i % 10000:04d},1980-01-01,"
                     f"여,Y,서울 중구 세종대로 {i}\r\n")  # fmt: skip


async def test_import_json_summary_and_report(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.tsv"
    path.write_text(
        "이름\t연락처\t성별\tfoo\n홍길동\t010-1234-5678\t남\t1\n무명\t\tX\t2\n", encoding="utf-8"
    )
    code, out, err = await telemart(db_url, tmp_path, "import", "customers", str(path),
                                    "--json", "--source", "fair-2024")  # fmt: skip
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert set(summary) == {"rows", "imported", "updated", "duplicates", "invalid", "warnings",
                            "error_report", "unknown_columns"}  # fmt: skip
    assert (summary["rows"], summary["imported"], summary["invalid"]) == (2, 1, 1)
    assert summary["unknown_columns"] == ["foo"]
    report = Path(summary["error_report"])
    assert report.parent == tmp_path / "reports"
    assert read_csv(report) == [["line", "reason", "value"], ["3", "missing phone number", ""]]
    conn = await connect(db_url)
    try:
        source = await conn.fetchval("SELECT source FROM consent_records")
        cust_source = await conn.fetchval("SELECT source FROM customers")
    finally:
        await conn.close()
    assert source is None  # no consent column, no consent record
    assert cust_source == "fair-2024"


async def test_missing_phone_column_exits_2(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("name,address\na,b\n", encoding="utf-8")
    code, _, err = await telemart(db_url, tmp_path, "import", "customers", str(path), "--json")
    assert code == 2
    assert "no phone column" in err


async def test_export_round_trips_and_is_audited(db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    complete_file(src, 30)
    assert (await telemart(db_url, tmp_path, "import", "customers", str(src)))[0] == 0
    out_file = tmp_path / "export.csv"
    code, out, err = await telemart(db_url, tmp_path, "customers", "export", str(out_file))
    assert code == 0, err
    with out_file.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 30
    assert rows[0]["phone_e164"] == "+821030000000"
    assert rows[0]["external_ref"] == "K0"
    assert rows[0]["region"] == "서울특별시"
    code, out, _ = await telemart(db_url, tmp_path, "import", "customers", str(out_file), "--json")
    again = json.loads(out.strip().splitlines()[-1])
    assert (again["rows"], again["imported"], again["updated"]) == (30, 0, 30)
    conn = await connect(db_url)
    try:
        audit = await conn.fetchrow(
            "SELECT * FROM audit_log WHERE action = 'customers.export'"
        )
    finally:
        await conn.close()
    assert audit is not None
    assert audit["details"] == {"count": 30}
    assert audit["actor"].startswith("cli")


async def test_dnc_cli(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "dnc.txt"
    path.write_text("010-1111-2222\n010-1111-2223\nbad\n", encoding="utf-8")
    code, out, err = await telemart(db_url, tmp_path, "import", "dnc", str(path), "--json",
                                    "--kind", "internal")  # fmt: skip
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert (summary["rows"], summary["imported"], summary["invalid"]) == (3, 2, 1)


async def _counts(db_url: str) -> tuple[int, int, int, int]:
    conn = await connect(db_url)
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM customers) AS customers,"
            " (SELECT count(*) FROM customers WHERE name = '' OR birth_date IS NULL"
            "   OR gender IS NULL OR region IS NULL OR NOT consent_marketing) AS incomplete,"
            " (SELECT count(*) FROM consent_records) AS consents,"
            " (SELECT count(*) FROM import_runs WHERE finished_at IS NULL) AS unfinished"
        )
    finally:
        await conn.close()
    assert row is not None
    return row["customers"], row["incomplete"], row["consents"], row["unfinished"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
async def test_interrupted_import_leaves_whole_batches_and_reruns_cleanly(
    db_url: str, tmp_path: Path, sig: signal.Signals
) -> None:
    path = tmp_path / "big.csv"
    complete_file(path, ROWS)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "import", "customers", str(path), "--json",
        "--batch-size", str(BATCH), env=cli_env(db_url, tmp_path), start_new_session=True,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        while True:  # wait for the third committed batch, then interrupt
            line = await asyncio.wait_for(proc.stderr.readline(), LINE_TIMEOUT_S)
            assert line, "the import ended before it could be interrupted"
            if b"batch 3 committed" in line:
                break
        proc.send_signal(sig)
        code = await asyncio.wait_for(proc.wait(), LINE_TIMEOUT_S)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the parser child, if still there
        except ProcessLookupError:
            pass
    assert code == (-9 if sig == signal.SIGKILL else 130)
    customers, incomplete, consents, unfinished = await _counts(db_url)
    # Whole batches only: a small first one (FIRST_BATCH_ROWS), then full ones.
    assert (customers - FIRST_BATCH_ROWS) % BATCH == 0
    assert FIRST_BATCH_ROWS + 2 * BATCH <= customers < ROWS
    assert incomplete == 0
    assert consents == customers
    assert unfinished == 1

    code, out, err = await telemart(db_url, tmp_path, "import", "customers", str(path), "--json",
                                    "--batch-size", str(BATCH))  # fmt: skip
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["rows"] == ROWS
    assert (summary["imported"], summary["updated"]) == (ROWS - customers, customers)
    assert await _counts(db_url) == (ROWS, 0, ROWS, 1)
