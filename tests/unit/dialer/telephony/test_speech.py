"""Words to sound with the real espeak-ng and sox, and the server Asterisk fetches them
from."""

from __future__ import annotations

import array
import asyncio
import io
import math
import wave
from pathlib import Path

import aiohttp
import pytest

from dialer.errors import TelephonyConfigError
from dialer.telephony import speech as speech_mod
from dialer.telephony.speech import (
    MAX_WORDS_CHARS,
    Speech,
    SpeechError,
    SpeechServer,
    check_tools,
    check_voice,
    listen_address,
)

pytestmark = pytest.mark.usefixtures("speech_tools")

TOTAL = "플로라 원피스 블루 2개, 신한카드 끝자리 4571, 합계 178,000원입니다."


def _wav(data: bytes) -> tuple[int, int, int, float, float]:
    """(rate, channels, sample width, seconds, RMS) of a WAV."""
    with wave.open(io.BytesIO(data)) as w:
        frames = w.readframes(w.getnframes())
        samples = array.array("h", frames)
        rms = math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))
        return (w.getframerate(), w.getnchannels(), w.getsampwidth(),
                w.getnframes() / w.getframerate(), rms)  # fmt: skip


@pytest.fixture
def speech(tmp_path: Path) -> Speech:
    return Speech(folder=tmp_path / "speech")


async def test_words_become_an_8khz_mono_wav_asterisk_plays(speech: Speech) -> None:
    name = await speech.render(TOTAL)
    path = speech.path(name)
    assert path is not None
    rate, channels, width, seconds, rms = _wav(path.read_bytes())
    assert (rate, channels, width) == (8000, 1, 2)  # format_wav's only rate
    assert 3.0 < seconds < 15.0, seconds  # a sentence, not a beep nor minutes
    assert rms > 500, rms  # speech, not silence
    assert (path.parent.stat().st_mode & 0o777) == 0o700  # the words may be personal
    assert not [p for p in path.parent.iterdir() if p.name != name]  # no parts left over


async def test_the_same_words_are_made_once_even_asked_for_at_once(speech: Speech) -> None:
    names = await asyncio.gather(*(speech.render(TOTAL) for _ in range(5)))
    assert len(set(names)) == 1
    again = await speech.render(f"  {TOTAL.replace(' ', '   ')} ")  # spacing does not count
    assert again == names[0]
    assert speech.renders == 1
    other = await speech.render("주문이 완료되었습니다.")
    assert other != names[0]
    assert speech.renders == 2


async def test_names_are_keyed_so_words_cannot_be_guessed_from_them(tmp_path: Path) -> None:
    one, two = Speech(folder=tmp_path / "a"), Speech(folder=tmp_path / "b")
    assert one.name(TOTAL) != two.name(TOTAL)
    assert one.name(TOTAL) == one.name(TOTAL)
    assert speech_mod.NAME.fullmatch(one.name(TOTAL))


async def test_no_words_or_too_many_are_refused(speech: Speech) -> None:
    with pytest.raises(SpeechError, match="no words"):
        await speech.render("   ")
    with pytest.raises(SpeechError, match=f"at most {MAX_WORDS_CHARS}"):
        await speech.render("가" * (MAX_WORDS_CHARS + 1))


async def test_a_voice_espeak_does_not_have_is_refused_at_start() -> None:
    # given a voice it lacks, espeak-ng says the words in another language, exit status 0
    with pytest.raises(TelephonyConfigError, match="TELEMART_ARI_SPEECH_VOICE 'kr'"):
        await check_voice("kr")
    await check_voice("ko")


async def test_a_failed_render_leaves_nothing_to_serve(
    speech: Speech, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speech_mod, "SAMPLE_RATE", -1)  # sox refuses it
    with pytest.raises(SpeechError, match="sox failed"):
        await speech.render(TOTAL)
    assert not list(speech.folder.iterdir())  # no half-made file for Asterisk to fetch
    assert speech.path(speech.name(TOTAL)) is None
    monkeypatch.undo()
    assert speech.path(await speech.render(TOTAL)) is not None  # and the next ask makes it


async def test_files_go_once_nobody_asked_for_them_for_keep_s(tmp_path: Path) -> None:
    now = [1000.0]
    speech = Speech(folder=tmp_path / "s", keep_s=600.0, clock=lambda: now[0])
    old = await speech.render("오래된 말")
    now[0] += 500.0
    kept = await speech.render("새 말")
    now[0] += 200.0  # the first is 700 s old, the second 200 s
    assert speech.sweep() == 1
    assert speech.path(old) is None
    assert not (tmp_path / "s" / old).exists()
    assert speech.path(kept) is not None


async def test_the_server_gives_only_files_it_made(speech: Speech) -> None:
    server = SpeechServer(speech, host="127.0.0.1", port=0)
    await server.start()
    try:
        name = await speech.render(TOTAL)
        (speech.folder / "other.wav").write_bytes(b"RIFF")  # not one of ours
        base = f"http://127.0.0.1:{server.port}/speech/"
        async with aiohttp.ClientSession() as http:
            async with http.get(base + name) as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"] == "audio/wav"
                assert await resp.read() == (speech.folder / name).read_bytes()
            for bad in ("other.wav", "0" * 64 + ".wav", "..%2Fsecret", name.upper()):
                async with http.get(base + bad) as resp:
                    assert resp.status == 404, bad
            async with http.post(base + name) as resp:
                assert resp.status == 405
    finally:
        await server.close()
    assert not speech.folder.exists()  # the words go with the process


async def test_a_port_taken_is_named_in_the_error(speech: Speech) -> None:
    first = SpeechServer(speech, host="127.0.0.1", port=0)
    await first.start()
    try:
        second = SpeechServer(Speech(), host="127.0.0.1", port=first.port)
        with pytest.raises(TelephonyConfigError, match="TELEMART_ARI_SPEECH_LISTEN"):
            await second.start()
        second.speech.close()
    finally:
        await first.close()


def test_the_listen_address_comes_from_the_url_unless_given() -> None:
    assert listen_address("http://10.0.0.5:8089", None) == ("10.0.0.5", 8089)
    assert listen_address("http://dialer-1.lan/", None) == ("dialer-1.lan", 80)
    assert listen_address("http://10.0.0.5:8089", "0.0.0.0:9000") == ("0.0.0.0", 9000)
    assert listen_address("http://[fd00::5]:8089", None) == ("fd00::5", 8089)
    with pytest.raises(TelephonyConfigError, match="TELEMART_ARI_SPEECH_LISTEN"):
        listen_address("http://10.0.0.5:8089", "8089")
    with pytest.raises(TelephonyConfigError, match="TELEMART_ARI_SPEECH_LISTEN"):
        listen_address("http://10.0.0.5:8089", "0.0.0.0:99999")


def test_missing_tools_name_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(TelephonyConfigError, match="apt-get install espeak-ng sox"):
        check_tools()
