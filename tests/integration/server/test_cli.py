"""The `telemart` command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from config.db import connect


def run_cli(
    db_url: str, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TELEMART_DATABASE_URL": db_url}
    env.pop("TELEMART_USER_PASSWORD", None)
    if password is not None:
        env["TELEMART_USER_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


async def test_migrate_twice_is_a_no_op(db_url: str) -> None:
    result = run_cli(db_url, "migrate")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


async def test_user_add_hashes_with_argon2_and_refuses_duplicates(db_url: str) -> None:
    ok = run_cli(db_url, "user", "add", "ana", "--role", "agent", password="s3cret-pass")
    assert ok.returncode == 0, ok.stderr
    conn = await connect(db_url)
    try:
        stored = await conn.fetchval("SELECT password_hash FROM users WHERE username = 'ana'")
    finally:
        await conn.close()
    assert stored.startswith("$argon2")
    again = run_cli(db_url, "user", "add", "ana", "--role", "agent", password="s3cret-pass")
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_user_add_without_terminal_or_env_explains(db_url: str) -> None:
    result = run_cli(db_url, "user", "add", "bo", "--role", "marketer")
    assert result.returncode != 0
    assert "TELEMART_USER_PASSWORD" in result.stderr


def test_unknown_role_is_rejected(db_url: str) -> None:
    result = run_cli(db_url, "user", "add", "bo", "--role", "king", password="whatever-1")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
