"""`telemart bench import` end to end, small: it measures, checks itself, and cleans up."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import asyncpg


async def test_bench_import_with_reimport_prints_its_figures(
    server_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "TELEMART_DATABASE_URL": server_url, "TELEMART_HOME": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "bench", "import", "--rows", "3000", "--json",
        "--reimport", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == 0, err.decode()
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["rows"] == 3000
    for key in ("seconds", "rows_per_s", "copy_rows_per_s", "ratio", "peak_rss_mb",
                "reimport_seconds", "reimport_rows_per_s"):  # fmt: skip
        assert result[key] > 0, key
    summary = result["summary"]
    assert summary["imported"] == result["customers"]
    assert summary["rows"] == (
        summary["imported"] + summary["updated"] + summary["duplicates"] + summary["invalid"]
    )
    admin = await asyncpg.connect(server_url)
    try:  # the scratch database is gone
        left = await admin.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'telemart_bench_import%'"
        )
    finally:
        await admin.close()
    assert left == 0
