"""The ARS on the ARI driver, through the live runtime: a caller handed over by the dialplan
orders by keypad, and the last words (the order number, the goodbye) are heard before the
line is put down. On a real Asterisk 22.10.1 the ARS hung up 9 ms after asking for them, so
Asterisk ended them unheard ("failed"); the fake plays a channel's prompts one after the
other for as long as they take and fails the rest at a hang-up, as Asterisk does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from config.db import _init_connection
from dialer.telephony.ari import AriPort
from server.auth import Role
from server.keys import LIVE
from tests.conftest import token_for
from tests.fakes.ari import AriFake
from tests.integration.inbound.seed import ars_on_air
from tests.integration.telephony.conftest import settings_for

ARS_LINE = "15881111"
CALLER = "+821055501234"


async def _seed(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    await _init_connection(conn)
    try:
        await ars_on_air(conn, caller=CALLER, queue="ars-line")
    finally:
        await conn.close()


def _playbacks(fake: AriFake, call_id: str) -> list[tuple[str, str]]:
    """(prompt, how it finished) for the call, in the order Asterisk finished them."""
    return [
        (e["playback"]["media_uri"].rsplit("/", 1)[-1], e["playback"]["state"])
        for e in fake.sent
        if e["type"] == "PlaybackFinished" and e["playback"]["target_uri"] == f"channel:{call_id}"
    ]


def _started(fake: AriFake, call_id: str, prompt: str) -> str:
    """The playback id the driver gave `prompt` on the call."""
    return next(
        path.rsplit("/", 1)[-1]
        for _, path, query in fake.calls_to(f"/channels/{call_id}/play/")
        if query.get("media", "").endswith(prompt)
    )


async def test_an_ars_order_by_keypad_is_confirmed_in_words_before_the_hang_up(
    fake: AriFake, live_app_factory: Callable[..., Any], db_url: str
) -> None:
    fake.prompt_s = 1.0  # the keys come well within the welcome (they cut it)
    port = AriPort(settings_for(fake))
    async with live_app_factory(port=port) as client:
        sup = await token_for(client, db_url, Role.SUPERVISOR)
        resp = await client.put(
            "/api/v1/inbound/queues/ars-line",
            headers=sup,
            json={"numbers": [ARS_LINE], "ars": True, "overflow_s": 1.0},
        )
        assert resp.status == 200, await resp.text()
        await _seed(db_url)
        await client.app[LIVE].runtime.inbound.reload()
        cid = fake.incoming(caller="010-5550-1234", exten=ARS_LINE, app="telemart-test")
        # the welcome takes no keys: the caller presses once asked for the product
        await fake.until(
            lambda: any(
                q.get("media", "").endswith("ars-product")
                for _, _, q in fake.calls_to(f"/channels/{cid}/play")
            ),
            within=10.0,
        )
        # product 1, option 2, quantity 2, the registered card by its last four digits, confirm
        for digit in "122104571":
            fake.dtmf(cid, digit)
        await fake.until(lambda: cid not in fake.channels, within=15.0)
        conn = await asyncpg.connect(db_url)
        try:
            session = await conn.fetchrow("SELECT * FROM ars_sessions WHERE call_id = $1", cid)
        finally:
            await conn.close()
    assert session["outcome"] == "order"
    assert session["path"][-1] == "done"
    heard = _playbacks(fake, cid)
    assert heard[-1] == ("ars-done", "done"), heard
    assert all(state == "done" for _, state in heard), heard
    # the keys came ahead of the words: each cut what was playing (barge-in), and the
    # words cut ended as Asterisk ends a stopped playback, `done`
    stopped = [path for method, path, _ in fake.calls_to("/playbacks/") if method == "DELETE"]
    assert f"/ari/playbacks/{_started(fake, cid, 'ars-product')}" in stopped, stopped
