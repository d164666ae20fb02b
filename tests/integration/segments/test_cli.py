"""`telemart rfm refresh` and `telemart segment preview` against a test database."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from config.db import connect
from tests.integration.segments.seed import seed_base


async def telemart(db_url: str, *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    env = {**os.environ, "TELEMART_DATABASE_URL": db_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", *args, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_rfm_refresh_and_preview_commands(db_url: str) -> None:
    conn = await connect(db_url)
    try:
        await seed_base(conn)
    finally:
        await conn.close()
    code, out, err = await telemart(db_url, "rfm", "refresh")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["customers"] == 4

    doc = {"filter": {"field": "rfm_f", "op": "eq", "value": 5}}
    code, out, err = await telemart(db_url, "segment", "preview", "-",
                                    stdin=json.dumps(doc).encode())  # fmt: skip
    assert code == 0, err
    assert out.startswith("1 customers")
    assert "+82 10-****-" in out

    bad = {"field": "rfm_f", "op": "eq", "value": 9}
    code, _, err = await telemart(db_url, "segment", "preview", "-",
                                  stdin=json.dumps(bad).encode())  # fmt: skip
    assert code == 2
    assert "filter.value" in err
