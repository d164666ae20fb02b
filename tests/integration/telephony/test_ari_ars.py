"""The ARS on the ARI driver, through the live runtime: a caller handed over by the dialplan
orders by keypad, and the last words (the order number, the goodbye) are heard before the
line is put down. On a real Asterisk 22.10.1 the ARS hung up 9 ms after asking for them, so
Asterisk ended them unheard ("failed"); the fake plays a channel's prompts one after the
other for as long as they take and fails the rest at a hang-up, as Asterisk does."""

from __future__ import annotations

import io
import socket
import wave
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from config.db import _init_connection
from dialer.telephony import speech as speech_mod
from dialer.telephony.ari import AriPort
from dialer.telephony.events import InboundCall, PromptDone
from server.auth import Role
from server.keys import LIVE
from tests.conftest import token_for
from tests.fakes.ari import AriFake
from tests.integration.inbound.seed import ars_on_air
from tests.integration.telephony.conftest import Recorder, settings_for

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.usefixtures("speech_tools")
async def test_the_ars_says_its_filled_in_words_through_the_speech_server(
    fake: AriFake, live_app_factory: Callable[..., Any], db_url: str
) -> None:
    """With TELEMART_ARI_SPEECH_URL each step is played as `sound:http://…/speech/<name>.wav`,
    the words said by espeak-ng, and Asterisk (here the fake, which fetches remote media as
    Asterisk's media cache does and plays it for the WAV's length) hears the total."""
    fake.remote_speed = 5.0  # the words take a fifth of their length here
    speech_url = f"http://127.0.0.1:{_free_port()}"
    port = AriPort(settings_for(fake, speech_url=speech_url))
    assert port.speech is not None
    said: list[str] = []
    render = port.speech.render

    async def listening(words: str) -> str:
        said.append(words)
        return await render(words)

    port.speech.render = listening  # type: ignore[method-assign]
    async with live_app_factory(port=port) as client:
        sup = await token_for(client, db_url, Role.SUPERVISOR)
        resp = await client.put("/api/v1/inbound/queues/ars-line", headers=sup,
                                json={"numbers": [ARS_LINE], "ars": True})  # fmt: skip
        assert resp.status == 200, await resp.text()
        await _seed(db_url)
        await client.app[LIVE].runtime.inbound.reload()
        cid = fake.incoming(caller="010-5550-1234", exten=ARS_LINE, app="telemart-test")
        # the welcome takes no keys and is heard to its end
        await fake.until(lambda: len(fake.calls_to(f"/channels/{cid}/play")) >= 2, within=10.0)
        for digit in "12210457":  # product 1, option 2, two, the card 0457
            fake.dtmf(cid, digit)
        # the caller hears the total to its end before confirming it
        await fake.until(lambda: any("합계" in w for w in said), within=10.0)
        total = next(w for w in said if "합계" in w)
        url = f"{speech_url}/speech/{port.speech.name(' '.join(total.split()))}"
        await fake.until(lambda: any(
            e["type"] == "PlaybackFinished" and e["playback"]["media_uri"] == f"sound:{url}"
            for e in fake.sent), within=10.0)  # fmt: skip
        fake.dtmf(cid, "1")
        await fake.until(lambda: cid not in fake.channels, within=20.0)
        conn = await asyncpg.connect(db_url)
        try:
            outcome = await conn.fetchval("SELECT outcome FROM ars_sessions WHERE call_id = $1",
                                          cid)  # fmt: skip
        finally:
            await conn.close()
    assert outcome == "order"
    media = [q["media"] for _, _, q in fake.calls_to(f"/channels/{cid}/play/")]
    assert len(media) == len(said)
    assert media == [f"sound:{speech_url}/speech/{port.speech.name(' '.join(w.split()))}"
                     for w in said]  # fmt: skip
    assert "product PAD 1 2개" in total, total  # the product, its option, the quantity
    assert "신한카드 끝자리 0457" in total, total
    assert "합계 178,000원" in total, total
    # every step was fetched and played, none failed; the heard lengths are the words'
    with wave.open(io.BytesIO(fake.fetched[url])) as w:
        assert w.getframerate() == 8000
        assert w.getnframes() / w.getframerate() > 4.0  # the whole sentence
    heard = [state for _, state in _playbacks(fake, cid)]
    assert len(heard) == len(media), heard
    assert set(heard) == {"done"}, heard
    assert port.speech.path(media[0].rsplit("/", 1)[-1]) is None  # gone with the process


@pytest.mark.usefixtures("speech_tools")
async def test_words_that_cannot_be_said_fall_back_to_the_recording(
    fake: AriFake, sink: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = AriPort(settings_for(fake, speech_url=f"http://127.0.0.1:{_free_port()}"))
    await port.open(sink)
    try:
        fake.incoming(caller="010-5550-1234", exten=ARS_LINE, app="telemart-test")
        call = await sink.wait(InboundCall)
        monkeypatch.setattr(speech_mod, "SAMPLE_RATE", -1)  # sox refuses it
        await port.play(call.call_id, "ars-total", words="합계 178,000원입니다.")
        done = await sink.wait(PromptDone, call.call_id)
    finally:
        await port.close()
    assert done.prompt == "ars-total"
    [(_, _, query)] = fake.calls_to(f"/channels/{call.call_id}/play/")
    assert query["media"] == "sound:telemart/ars-total"
