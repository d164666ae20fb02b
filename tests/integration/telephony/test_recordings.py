"""Recordings: kept per attempt with their retention, played by supervisors (audited),
deleted by the retention job; audio from a folder (sim) or from Asterisk (the ARI fake)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from config.db import connect
from config.settings import Settings
from dialer.recordings import store
from dialer.recordings.files import FolderRecordings, sim_folder
from dialer.recordings.jobs import jobs
from server.app import create_app
from server.auth import Role
from tests.conftest import token_for
from tests.fakes.ari import AriFake, silent_wav

AT = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


async def _attempt(conn: asyncpg.Connection, *, campaign_id: int = 12) -> tuple[int, int]:
    customer_id = await conn.fetchval(
        "INSERT INTO customers (name, phone_e164) VALUES ('김민지', '+821055501234') RETURNING id")
    attempt_id = await conn.fetchval(
        "INSERT INTO contact_attempts (customer_id, campaign_id, phone_e164, outcome)"
        " VALUES ($1, $2, '+821055501234', 'answered_live') RETURNING id",
        customer_id, campaign_id)
    return customer_id, attempt_id


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    c = await connect(db_url)
    try:
        yield c
    finally:
        await c.close()


async def test_a_finished_recording_is_kept_for_the_retention(conn: asyncpg.Connection) -> None:
    _, attempt_id = await _attempt(conn)
    rid = await store.save(conn, call_id=f"tm-12-{attempt_id}", name=f"tm-12-{attempt_id}",
                           duration_s=42.0, at=AT, port="ari")
    assert rid is not None
    rec = await store.get(conn, rid)
    assert rec is not None
    assert (rec.attempt_id, rec.campaign_id, rec.duration_s) == (attempt_id, 12, 42.0)
    assert rec.delete_after - rec.recorded_at == dt.timedelta(days=90)
    again = await store.save(conn, call_id=f"tm-12-{attempt_id}", name=f"tm-12-{attempt_id}",
                             duration_s=42.0, at=AT, port="ari")
    assert again is None  # the same recording reported twice is kept once
    short = await store.save(conn, call_id=f"tm-12-{attempt_id}", name=f"tm-12-{attempt_id}-2",
                             duration_s=5.0, at=AT, port="ari", retention_days=30)
    assert short is not None
    assert await store.save(conn, call_id="inbound-77", name="inbound-77", duration_s=1.0,
                            at=AT, port="ari") is None


async def test_the_campaigns_retention_is_used(conn: asyncpg.Connection) -> None:
    campaign_id = await conn.fetchval(
        "INSERT INTO campaigns (name, calling_window, compliance, created_by, telephony)"
        " VALUES ('녹음 캠페인', '{}', '{}', 'test', '{\"recording_retention_days\": 180}')"
        " RETURNING id")
    _, attempt_id = await _attempt(conn, campaign_id=campaign_id)
    name = f"tm-{campaign_id}-{attempt_id}"
    rid = await store.save(conn, call_id=name, name=name, duration_s=9, at=AT, port="ari")
    assert rid is not None
    rec = await store.get(conn, rid)
    assert rec is not None
    assert rec.delete_after - rec.recorded_at == dt.timedelta(days=180)


async def test_the_retention_job_deletes_what_is_due(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    _, attempt_id = await _attempt(conn)
    folder = tmp_path / "recordings"
    folder.mkdir()
    now = dt.datetime.now(dt.UTC)
    old, fresh = f"tm-12-{attempt_id}", f"tm-12-{attempt_id}-2"
    for name in (old, fresh):
        (folder / f"{name}.wav").write_bytes(silent_wav(1))
    await store.save(conn, call_id=old, name=old, duration_s=1, port="sim",
                     at=now - dt.timedelta(days=91))
    await store.save(conn, call_id=old, name=fresh, duration_s=1, port="sim",
                     at=now - dt.timedelta(days=89))
    assert await store.delete_due(conn, FolderRecordings(folder), now=now) == 1
    assert not (folder / f"{old}.wav").exists()
    assert (folder / f"{fresh}.wav").exists()
    rows = {r["name"]: r["deleted_at"] for r in
            await conn.fetch("SELECT name, deleted_at FROM call_recordings")}
    assert rows[old] is not None
    assert rows[fresh] is None
    assert await store.delete_due(conn, FolderRecordings(folder), now=now) == 0


async def test_a_file_that_cannot_be_deleted_stays_due(conn: asyncpg.Connection) -> None:
    _, attempt_id = await _attempt(conn)
    name = f"tm-12-{attempt_id}"
    await store.save(conn, call_id=name, name=name, duration_s=1, port="ari",
                     at=AT - dt.timedelta(days=200))

    class Down:
        async def audio(self, name: str) -> bytes | None:
            return None

        async def delete(self, name: str) -> bool:
            raise OSError("Asterisk is down")

    assert await store.delete_due(conn, Down(), now=AT) == 0
    assert await conn.fetchval("SELECT deleted_at FROM call_recordings") is None


async def test_the_scheduled_job_uses_the_telephony_setting(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home")
    folder = sim_folder(settings)
    folder.mkdir(parents=True)
    _, attempt_id = await _attempt(conn)
    name = f"tm-12-{attempt_id}"
    (folder / f"{name}.wav").write_bytes(silent_wav(1))
    await store.save(conn, call_id=name, name=name, duration_s=1, port="sim",
                     at=dt.datetime.now(dt.UTC) - dt.timedelta(days=100))
    (job,) = jobs(settings)
    assert job.name == "dialer.recordings_retention"
    assert await job.body(conn) == 1
    assert not (folder / f"{name}.wav").exists()


@pytest.fixture
async def sim_client(db_url: str, tmp_path: Path) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    settings = Settings(home=tmp_path / "home", pool_min_size=1, pool_max_size=4)
    app = create_app(settings, url=db_url, background=False)
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_a_supervisor_plays_a_call_from_the_timeline_and_it_is_audited(
    sim_client: TestClient, db_url: str, conn: asyncpg.Connection, tmp_path: Path  # type: ignore[type-arg]
) -> None:
    customer_id, attempt_id = await _attempt(conn)
    name = f"tm-12-{attempt_id}"
    folder = tmp_path / "home" / "recordings"
    folder.mkdir(parents=True)
    (folder / f"{name}.wav").write_bytes(silent_wav(2))
    rid = await store.save(conn, call_id=name, name=name, duration_s=2, at=AT, port="sim")
    headers = await token_for(sim_client, db_url, Role.SUPERVISOR)
    resp = await sim_client.get(f"/api/v1/customers/{customer_id}/recordings", headers=headers)
    assert resp.status == 200
    (item,) = (await resp.json())["items"]
    assert (item["id"], item["attempt_id"], item["name"]) == (rid, attempt_id, name)
    resp = await sim_client.get(item["audio_url"], headers=headers)
    assert resp.status == 200
    assert resp.content_type == "audio/wav"
    assert (await resp.read())[:4] == b"RIFF"
    audit = await conn.fetchrow("SELECT actor, action, subject, details FROM audit_log"
                                " WHERE action = 'recording.play'")
    assert audit is not None
    assert audit["actor"].startswith("supervisor-")
    assert audit["subject"] == name
    assert audit["details"]["customer_id"] == customer_id


@pytest.mark.parametrize("role", [Role.AGENT, Role.MARKETER])
async def test_only_supervisors_play_recordings(
    sim_client: TestClient, db_url: str, conn: asyncpg.Connection, role: Role  # type: ignore[type-arg]
) -> None:
    customer_id, attempt_id = await _attempt(conn)
    rid = await store.save(conn, call_id=f"tm-1-{attempt_id}", name=f"tm-1-{attempt_id}",
                           duration_s=2, at=AT, port="sim")
    headers = await token_for(sim_client, db_url, role)
    for url in (f"/api/v1/customers/{customer_id}/recordings", f"/api/v1/recordings/{rid}/audio"):
        resp = await sim_client.get(url, headers=headers)
        assert resp.status == 403
    assert await conn.fetchval("SELECT count(*) FROM audit_log"
                               " WHERE action = 'recording.play'") == 0


async def test_a_deleted_or_missing_recording_is_not_found(
    sim_client: TestClient, db_url: str, conn: asyncpg.Connection  # type: ignore[type-arg]
) -> None:
    _, attempt_id = await _attempt(conn)
    rid = await store.save(conn, call_id=f"tm-1-{attempt_id}", name=f"tm-1-{attempt_id}",
                           duration_s=2, at=AT, port="sim")
    headers = await token_for(sim_client, db_url, Role.SUPERVISOR)
    resp = await sim_client.get(f"/api/v1/recordings/{rid}/audio", headers=headers)
    assert resp.status == 404  # the row is there, the file is not
    await conn.execute("UPDATE call_recordings SET deleted_at = now()")
    resp = await sim_client.get(f"/api/v1/recordings/{rid}/audio", headers=headers)
    assert resp.status == 404


async def test_on_asterisk_the_audio_comes_over_ari(
    db_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    customer_id, attempt_id = await _attempt(conn)
    name = f"tm-12-{attempt_id}"
    async with AriFake().running() as fake:
        fake.stored[name] = silent_wav(3)
        settings = Settings(home=tmp_path / "home", telephony="ari", ari_url=fake.url,
                            ari_password=SecretStr("secret"), pool_min_size=1,
                            pool_max_size=4)
        rid = await store.save(conn, call_id=name, name=name, duration_s=3, at=AT, port="ari")
        app = create_app(settings, url=db_url, background=False)
        async with TestClient(TestServer(app)) as client:
            headers = await token_for(client, db_url, Role.SUPERVISOR)
            resp = await client.get(f"/api/v1/recordings/{rid}/audio", headers=headers)
            assert resp.status == 200
            assert await resp.read() == fake.stored[name]
        assert fake.calls_to(f"/recordings/stored/{name}/file")
    assert customer_id
