"""AMD `vad`: tell a person from an answering machine by the shape of what they say first.

Asterisk sends the callee's audio (a snoop on the call, bridged to an external media
channel) to Telemart as RTP, G.711 µ-law, 8 kHz. A voice-activity model (WebRTC's VAD,
from the `webrtcvad-wheels` package) marks each 20 ms frame as speech or not; the
classifier then reads the greeting the way Asterisk's AMD application does, with a better
ear for speech than an energy threshold:

- a person answers short ("여보세요?", about a second) and then waits: a short utterance
  followed by silence is a person;
- a machine plays a long greeting ("지금은 전화를 받을 수 없으니 ..."): speech that goes on
  past `MACHINE_SPEECH_MS`, or many words, is a machine;
- nothing said at all within `SILENCE_GIVE_UP_MS` stays `unknown` (treated as live: the
  law prefers a wrongly kept machine to a dropped person).

Times are audio time (frames counted), so a test may send audio faster than real time.
docs/telephony.md gives the accuracy measured on Korean greetings.
"""

from __future__ import annotations

import array
import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import cast

import webrtcvad

from dialer.errors import TelephonyUnavailable
from dialer.telephony.ari.client import AriClient, AriHttpError
from dialer.telephony.ari.stasis import Lines, Tasks, ensure_bridge, quietly
from dialer.telephony.events import AnswerKind

log = logging.getLogger(__name__)

RATE_HZ = 8000
FRAME_MS = 20
FRAME_BYTES = RATE_HZ * FRAME_MS // 1000 * 2  # 16-bit samples
VAD_AGGRESSIVENESS = 3  # 0 (keeps most) .. 3 (drops most non-speech): 3 measured best
WORD_START_MS = 100  # voiced in a row that starts a word (shorter: a click, the VAD settling)
WORD_END_MS = 300  # silence that ends a word
HUMAN_WAIT_MS = 700  # silence after a short first utterance: a person waiting for us
HUMAN_MAX_SPEECH_MS = 2000  # the longest first utterance a person makes
MACHINE_SPEECH_MS = 2200  # speech (words and short pauses) longer than this: a greeting
MACHINE_WORDS = 5  # this many words before a pause: a greeting
SILENCE_GIVE_UP_MS = 3000  # nothing said by then: unknown
DECIDE_BY_MS = 4000  # audio after which the classifier must have decided


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    kind: AnswerKind
    detail: str
    audio_ms: int  # audio heard when it decided


class GreetingClassifier:
    """Feed 16-bit little-endian PCM at 8 kHz; `decision` is set once it knows."""

    def __init__(self, *, aggressiveness: int = VAD_AGGRESSIVENESS,
                 is_speech: Callable[[bytes], bool] | None = None) -> None:
        vad = webrtcvad.Vad(aggressiveness)
        # a frame (20 ms of 16-bit PCM) -> speech or not; another model may be given
        self._is_speech = is_speech or (lambda frame: vad.is_speech(frame, RATE_HZ))
        self._buf = b""
        self.audio_ms = 0
        self.speech_ms = 0  # voiced time inside words
        self.words = 0
        self._first_voice_ms: int | None = None  # start of the first word
        self._voiced_run = 0
        self._silent_run = 0
        self._in_word = False
        self.decision: Decision | None = None

    def feed(self, pcm: bytes) -> Decision | None:
        self._buf += pcm
        while len(self._buf) >= FRAME_BYTES and self.decision is None:
            frame, self._buf = self._buf[:FRAME_BYTES], self._buf[FRAME_BYTES:]
            self._frame(self._is_speech(frame))
        return self.decision

    def _frame(self, voiced: bool) -> None:
        self.audio_ms += FRAME_MS
        if voiced:
            self._voiced_run += FRAME_MS
            self._silent_run = 0
            if not self._in_word and self._voiced_run >= WORD_START_MS:
                self._in_word = True
                self.words += 1
                self.speech_ms += self._voiced_run - FRAME_MS
                if self._first_voice_ms is None:
                    self._first_voice_ms = self.audio_ms - self._voiced_run
            if self._in_word:
                self.speech_ms += FRAME_MS
        else:
            self._silent_run += FRAME_MS
            self._voiced_run = 0
            if self._in_word and self._silent_run >= WORD_END_MS:
                self._in_word = False
        self._decide()

    def _decide(self) -> None:
        if self._first_voice_ms is None:
            if self.audio_ms >= SILENCE_GIVE_UP_MS:
                self._set(AnswerKind.UNKNOWN, f"silence {self.audio_ms} ms")
            return
        if self.speech_ms > MACHINE_SPEECH_MS:
            self._set(AnswerKind.MACHINE, f"greeting longer than {MACHINE_SPEECH_MS} ms")
        elif self.words >= MACHINE_WORDS:
            self._set(AnswerKind.MACHINE, f"{self.words} words")
        elif (not self._in_word and self._silent_run >= HUMAN_WAIT_MS
              and self.speech_ms <= HUMAN_MAX_SPEECH_MS):
            self._set(AnswerKind.LIVE, f"{self.speech_ms} ms of speech, then silence")
        elif self.audio_ms >= DECIDE_BY_MS:
            kind = AnswerKind.MACHINE if self.speech_ms > HUMAN_MAX_SPEECH_MS else AnswerKind.LIVE
            self._set(kind, f"undecided at {DECIDE_BY_MS} ms ({self.speech_ms} ms of speech)")

    def _set(self, kind: AnswerKind, detail: str) -> None:
        self.decision = Decision(kind=kind, detail=detail, audio_ms=self.audio_ms)


def classify_pcm(pcm: bytes, *, aggressiveness: int = VAD_AGGRESSIVENESS,
                 is_speech: Callable[[bytes], bool] | None = None) -> Decision:
    """A whole recording at once (tests and the accuracy measurement); audio that ends
    before a decision is read as if silence followed."""
    clf = GreetingClassifier(aggressiveness=aggressiveness, is_speech=is_speech)
    found = clf.feed(pcm)
    silence = bytes(FRAME_BYTES)
    while found is None:
        found = clf.feed(silence)
    return found


# -- G.711 µ-law ---------------------------------------------------------------------------
def _ulaw_to_linear(byte: int) -> int:
    u = ~byte & 0xFF
    t = ((u & 0x0F) << 3) + 0x84
    t <<= (u & 0x70) >> 4
    return (0x84 - t) if u & 0x80 else (t - 0x84)


ULAW_TABLE = array.array("h", (_ulaw_to_linear(b) for b in range(256)))


def ulaw_to_pcm16(payload: bytes) -> bytes:
    """µ-law bytes to 16-bit little-endian samples."""
    table = ULAW_TABLE
    return array.array("h", [table[b] for b in payload]).tobytes()


_SEG_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)


def _linear_to_ulaw(sample: int) -> int:
    """G.711's reference encoder (14-bit magnitude, bias 33)."""
    value = sample >> 2
    mask = 0xFF
    if value < 0:
        value, mask = -value, 0x7F
    value = min(value, 8159) + 0x21
    for seg, end in enumerate(_SEG_END):
        if value <= end:
            return ((seg << 4) | ((value >> (seg + 1)) & 0x0F)) ^ mask
    return 0x7F ^ mask


def pcm16_to_ulaw(pcm: bytes) -> bytes:
    """16-bit little-endian samples to µ-law (the ARI fake and the tests send this)."""
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) // 2 * 2])
    return bytes(_linear_to_ulaw(s) for s in samples)


# -- RTP in --------------------------------------------------------------------------------
def rtp_payload(packet: bytes) -> bytes | None:
    """The payload of an RTP packet (RFC 3550), or None if it is not one."""
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:  # header extension
        if len(packet) < offset + 4:
            return None
        offset += 4 + 4 * int.from_bytes(packet[offset + 2 : offset + 4], "big")
    end = len(packet)
    if packet[0] & 0x20:  # padding
        end -= packet[-1]
    return packet[offset:end] if offset <= end else None


Feed = Callable[[bytes], None]


class RtpReceiver(asyncio.DatagramProtocol):
    """One UDP socket for every AMD session; packets are told apart by where they come
    from (Asterisk's end of each external media channel, which ARI tells us)."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, int], Feed] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.strays = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        feed = self.routes.get((str(addr[0]), int(addr[1])))
        if feed is None:
            self.strays += 1
            return
        payload = rtp_payload(data)
        if payload:
            feed(payload)

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_receiver(host: str, port: int) -> RtpReceiver:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(RtpReceiver, local_addr=(host, port))
    return protocol


class VadSession:
    """One call's detection: µ-law payloads in, one decision out (`on_decision`)."""

    def __init__(self, call_id: str, on_decision: Callable[[str, Decision], None]) -> None:
        self.call_id = call_id
        self.classifier = GreetingClassifier()
        self._on_decision = on_decision
        self.done = False

    def feed(self, payload: bytes) -> None:
        if self.done:
            return
        found = self.classifier.feed(ulaw_to_pcm16(payload))
        if found is not None:
            self.finish(found)

    def finish(self, decision: Decision) -> None:
        if not self.done:
            self.done = True
            self._on_decision(self.call_id, decision)


# -- on Asterisk ---------------------------------------------------------------------------
VAD_NO_AUDIO_S = 5.0  # no decision by then (no audio came): unknown


class VadRunner:
    """Per call: a snoop on the callee's audio and an external media channel in a small
    bridge `tm-amd-<call>`, so Asterisk streams what the callee says to our RTP socket."""

    def __init__(self, client: AriClient, lines: Lines, tasks: Tasks, *, app: str,
                 rtp_host: str, rtp_port: int, on_decision: Callable[[str, Decision], None]
                 ) -> None:
        self.client, self.lines, self.tasks = client, lines, tasks
        self.app, self.rtp_host, self.rtp_port = app, rtp_host, rtp_port
        self.on_decision = on_decision
        self.receiver: RtpReceiver | None = None
        self.sessions: dict[str, VadSession] = {}
        self._routes: dict[str, tuple[str, int]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._pending: dict[str, set[str]] = {}  # call id -> AMD channels not yet in Stasis
        self.channels: dict[str, str] = {}  # AMD channel -> call id

    def start(self, call_id: str) -> None:
        self.sessions[call_id] = VadSession(call_id, self._decided)
        self._timers[call_id] = asyncio.get_running_loop().call_later(
            VAD_NO_AUDIO_S, self._timeout, call_id)
        self.tasks.spawn(self._start(call_id), f"vad-{call_id}")

    async def _start(self, call_id: str) -> None:
        session = self.sessions.get(call_id)
        if session is None:
            return
        ext_id, snoop_id = f"tm-amdx-{call_id}", f"tm-amds-{call_id}"
        try:
            if self.receiver is None:
                self.receiver = await open_receiver(self.rtp_host, self.rtp_port)
            host, port = self.receiver.address
            self._pending[call_id] = {ext_id, snoop_id}
            self.channels[ext_id] = self.channels[snoop_id] = call_id
            await ensure_bridge(self.client, f"tm-amd-{call_id}", name=f"amd {call_id}")
            made = await self.client.request(
                "POST", "/channels/externalMedia",
                params={"channelId": ext_id, "app": self.app, "appArgs": "amd-media",
                        "external_host": f"{host}:{port}", "format": "ulaw"})
            cvars = (made or {}).get("channelvars") or {}
            route = (str(cvars.get("UNICASTRTP_LOCAL_ADDRESS")),
                     int(cvars.get("UNICASTRTP_LOCAL_PORT") or 0))
            self._routes[call_id] = route
            self.receiver.routes[route] = session.feed
            await self.client.request(
                "POST", f"/channels/{call_id}/snoop/{snoop_id}",
                params={"spy": "in", "app": self.app, "appArgs": "amd-snoop"})
        except (AriHttpError, TelephonyUnavailable, OSError) as exc:
            log.warning("AMD for %s could not start: %s", call_id, exc)
            session.finish(Decision(kind=AnswerKind.UNKNOWN, detail=f"no audio: {exc}",
                                    audio_ms=0))

    async def join(self, channel_id: str) -> None:
        """An AMD channel entered Stasis; once both have, bridge them."""
        call_id = self.channels.get(channel_id, "")
        pending = self._pending.get(call_id)
        if pending is None:
            await quietly(self.client, "DELETE", f"/channels/{channel_id}")
            return
        pending.discard(channel_id)
        if not pending:
            await quietly(self.client, "POST", f"/bridges/tm-amd-{call_id}/addChannel",
                          {"channel": f"tm-amdx-{call_id},tm-amds-{call_id}"})

    def _timeout(self, call_id: str) -> None:
        session = self.sessions.get(call_id)
        if session is not None:
            session.finish(Decision(kind=AnswerKind.UNKNOWN, detail="no decision in time",
                                    audio_ms=session.classifier.audio_ms))

    def _decided(self, call_id: str, decision: Decision) -> None:
        self.stop(call_id)
        self.on_decision(call_id, decision)

    def stop(self, call_id: str) -> None:
        """Take the AMD channels down (decided, or the call ended)."""
        session = self.sessions.pop(call_id, None)
        if session is None:
            return
        session.done = True
        timer = self._timers.pop(call_id, None)
        if timer is not None:
            timer.cancel()
        route = self._routes.pop(call_id, None)
        if route is not None and self.receiver is not None:
            self.receiver.routes.pop(route, None)
        self._pending.pop(call_id, None)
        for channel in (f"tm-amdx-{call_id}", f"tm-amds-{call_id}"):
            self.channels.pop(channel, None)
            self.tasks.spawn(quietly(self.client, "DELETE", f"/channels/{channel}"),
                             f"amd-end-{call_id}")
        self.tasks.spawn(quietly(self.client, "DELETE", f"/bridges/tm-amd-{call_id}"),
                         f"amd-end-{call_id}")

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        if self.receiver is not None:
            self.receiver.close()
            self.receiver = None
