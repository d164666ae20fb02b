"""Shared fixtures: a real PostgreSQL, a migrated template, a fresh database per test.

TELEMART_TEST_DATABASE_URL points at a server to use; without it an embedded
PostgreSQL is started in a temporary folder for the session.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from config.db import connect, create_pool
from config.embedded import EmbeddedPostgres
from config.migrations import migrate
from config.scratch import with_database
from config.settings import Settings
from dialer.telephony.speech import missing_tools
from server.app import create_app
from server.auth import Role, create_user
from tests.debian import apt_install

TEMPLATE_DB = f"telemart_tpl_{os.getpid()}"



@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """URL of a PostgreSQL server (any database on it)."""
    given = os.environ.get("TELEMART_TEST_DATABASE_URL")
    if given:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="telemart-test-pg-") as tmp:
        with EmbeddedPostgres(Path(tmp) / "pg") as pg:
            yield pg.url


@pytest.fixture(scope="session")
async def template_url(server_url: str) -> AsyncIterator[str]:
    """A migrated template database, cloned for each test."""
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
    await admin.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    url = with_database(server_url, TEMPLATE_DB)
    conn = await connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database cloned from the session's template, dropped after."""
    name = f"telemart_t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
        yield with_database(server_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def db_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    async with fresh_database(server_url) as url:
        yield url


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(db_url, min_size=1, max_size=10)
    try:
        yield p
    finally:
        await p.close()


SPEECH_PACKAGES = ("espeak-ng", "sox")


@pytest.fixture(scope="session")
def speech_tools() -> None:
    """espeak-ng and sox (spoken prompts): installed if missing and we may, else the test
    fails saying what to run."""
    if not missing_tools():
        return
    why = apt_install(SPEECH_PACKAGES)
    if missing_tools():
        pytest.fail(f"spoken prompts need {' and '.join(missing_tools())}: run `sudo apt-get "
                    f"install -y espeak-ng sox` ({why})")  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", pool_min_size=1, pool_max_size=10)


@pytest.fixture
async def client(settings: Settings, db_url: str) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """An HTTP client for the app on a fresh database (no background jobs)."""
    app = create_app(settings, url=db_url, background=False)
    async with TestClient(TestServer(app)) as c:
        yield c


async def make_user(db_url: str, username: str, role: Role, password: str = "password-1") -> None:
    conn = await connect(db_url)
    try:
        await create_user(conn, username=username, password=password, role=role)
    finally:
        await conn.close()


async def token_for(client: TestClient, db_url: str, role: Role) -> dict[str, str]:  # type: ignore[type-arg]
    """Create a user with `role` and return Authorization headers for it."""
    username = f"{role.value}-{secrets.token_hex(3)}"
    await make_user(db_url, username, role)
    resp = await client.post(
        "/api/v1/auth/token", json={"username": username, "password": "password-1"}
    )
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


@pytest.fixture
def auth_headers(client: TestClient, db_url: str):  # type: ignore[no-untyped-def,type-arg]
    """`await auth_headers(Role.MARKETER)` → headers of a new user with that role."""

    async def make(role: Role) -> dict[str, str]:
        return await token_for(client, db_url, role)

    return make
