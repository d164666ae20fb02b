"""An ARI fake: an aiohttp server that answers Asterisk's REST calls the way Asterisk 22
does and sends events shaped like the capture in
`../shared/telephony/asterisk-22-ari-events.jsonl` (originate, dial, bridge, playback,
recording, hang-up). It is a fake, not Asterisk: no audio is mixed; what a dialled number
does is scripted per number (`Behaviour`), and the test or the benchmark drives the rest
(a customer hanging up, a phone leg dropping, the events socket closing).

AMD `vad`: an external media channel really sends RTP (µ-law) to the address the client
gave, with the audio scripted for the number, as soon as it shares a bridge with a snoop on
that call.

Run alone (the telephony benchmark does): `python -m tests.fakes.ari --port 8088`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import datetime as dt
import io
import itertools
import json
import re
import struct
import time
import wave
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web

ASTERISK_ID = "02:fc:00:00:00:01"
RTP_SPEED = 4.0  # scripted audio goes out this many times faster than real time
_ENDPOINT = re.compile(r"^(?P<tech>[A-Za-z]+)/(?P<resource>[^@]+)(?:@(?P<trunk>.+))?$")
CAUSE_TXT = {
    1: "Unallocated (unassigned) number", 16: "Normal Clearing", 17: "User busy",
    19: "User alerting, no answer", 21: "Call Rejected", 34: "Circuit/channel congestion",
    38: "Network out of order", 41: "Temporary failure", 42: "Switching equipment congestion",
}  # fmt: skip
SIP_STATUS = {1: 404, 17: 486, 19: 480, 21: 603, 34: 503, 38: 502, 41: 500, 42: 503}


@dataclasses.dataclass(kw_only=True)
class Behaviour:
    """What a dialled number (or an agent's phone) does."""

    ring_s: float = 0.005  # dial -> ringing
    answer_s: float | None = 0.01  # ringing -> answer; None: rings until hung up
    fail: str | None = None  # a Dial status instead of an answer: BUSY, CONGESTION, ...
    cause: int = 16  # ChannelDestroyed's cause when it fails
    fail_s: float = 0.01  # dial -> failure
    amd: str = "HUMAN"  # what AMD() says (asterisk mode)
    amd_cause: str = "HUMAN-800-800"
    amd_s: float = 0.02
    audio: bytes = b""  # µ-law the callee "says" (vad mode)
    hangup_after_s: float | None = None  # the callee hangs up this long after answering


HUMAN = Behaviour()


@dataclasses.dataclass(kw_only=True)
class FakeChannel:
    id: str
    name: str
    endpoint: str
    app: str
    args: list[str]
    caller: str = ""
    state: str = "Down"
    context: str = "from-carrier"
    in_stasis: bool = False
    bridge: str | None = None
    muted: set[str] = dataclasses.field(default_factory=set)
    variables: dict[str, str] = dataclasses.field(default_factory=dict)
    behaviour: Behaviour = dataclasses.field(default_factory=Behaviour)
    created: str = ""
    snoop_of: str | None = None
    spy: str = "none"
    whisper: str = "none"
    external_host: tuple[str, int] | None = None
    rtp_local: tuple[str, int] | None = None
    tasks: list[asyncio.Task[None]] = dataclasses.field(default_factory=list)
    # playbacks not finished yet, in order: Asterisk plays a channel's playbacks one after
    # the other, and a hang-up ends the rest as "failed" (seen on Asterisk 22.10.1)
    playbacks: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True)
class FakeBridge:
    id: str
    name: str
    type: str = "mixing"
    channels: list[str] = dataclasses.field(default_factory=list)
    moh: bool = False
    created: str = ""


def now_text() -> str:
    t = dt.datetime.now(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


class AriFake:
    """The fake Asterisk. `behaviours` maps a dialled number (or an agent endpoint's
    resource) to what it does; anything else answers at once as a person."""

    def __init__(self, *, user: str = "telemart", password: str = "secret") -> None:
        self.user, self.password = user, password
        self.behaviours: dict[str, Behaviour] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.bridges: dict[str, FakeBridge] = {}
        self.live_recordings: dict[str, tuple[str, float]] = {}  # name -> (bridge, start)
        self.stored: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self.filters: dict[str, frozenset[str]] = {}  # app -> event types it asked for
        self.sent: list[dict[str, Any]] = []
        self.keep_sent = True
        self.refuse_events = False  # the websocket handshake fails (Asterisk restarting)
        self.prompt_s = 0.02  # how long every prompt takes to say
        self.fetched: dict[str, bytes] = {}  # remote media (sound:http://…) fetched, by URL
        self.remote_speed = 1.0  # remote media plays for its length divided by this
        # playbacks not over: id -> (the channel, None on a bridge; its task; its fields)
        self._pb_tasks: dict[
            str, tuple[FakeChannel | None, asyncio.Task[None], dict[str, Any]]
        ] = {}
        self._seq = itertools.count(21)
        self._rtp: dict[str, asyncio.DatagramTransport] = {}
        self._changed = asyncio.Event()
        self.app = web.Application()
        self._routes()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- running ---------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        self.url = f"http://{host}:{sock.getsockname()[1]}/ari"
        return self.url

    async def stop(self) -> None:
        for ch in list(self.channels.values()):
            self._cancel(ch)
        for transport in self._rtp.values():
            transport.close()
        for ws in list(self.sockets.values()):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[AriFake]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    # -- what tests do to it ---------------------------------------------------------------
    async def drop_events(self) -> None:
        """Close every events socket (a network blip, an Asterisk restart)."""
        for ws in list(self.sockets.values()):
            await ws.close()
        self.sockets.clear()

    def remote_hangup(self, channel_id: str, cause: int = 16) -> None:
        """The far end hangs up (a customer, or an agent's phone)."""
        ch = self.channels.get(channel_id)
        if ch is not None:
            self._emit("ChannelHangupRequest", channel=self._ch(ch), cause=cause)
            self._destroy(ch, cause)

    def vanish(self, channel_id: str) -> None:
        """The channel ends with nobody told (events lost while disconnected)."""
        ch = self.channels.pop(channel_id, None)
        if ch is not None:
            self._cancel(ch)
            self._leave_bridge(ch, quiet=True)

    def answer_quietly(self, channel_id: str) -> None:
        """The channel answers while no events socket listens."""
        ch = self.channels.get(channel_id)
        if ch is not None:
            self._cancel(ch)
            ch.state, ch.in_stasis = "Up", True

    def incoming(self, *, caller: str, exten: str, app: str = "telemart") -> str:
        """A caller dials `exten`; the dialplan hands the channel to Stasis(app,inbound,
        exten), ringing, as docs/telephony.md's extensions.conf does. Returns its id."""
        n = next(self._seq)
        ch = FakeChannel(id=f"in-{n}", name=f"PJSIP/carrier-{n:08x}",
                         endpoint="PJSIP/carrier", app=app, args=["inbound", exten],
                         caller=caller, state="Ring", created=now_text())
        self.channels[ch.id] = ch
        self._emit("ChannelCreated", channel=self._ch(ch))
        self._enter_stasis(ch)
        return ch.id

    def dtmf(self, channel_id: str, digit: str) -> None:
        """The caller presses a key."""
        ch = self.channels[channel_id]
        self._emit("ChannelDtmfReceived", digit=digit, duration_ms=120, channel=self._ch(ch))

    async def answer(self, request: web.Request) -> web.Response:
        self._log(request)
        ch = self._channel(request)
        if ch.state != "Up":
            ch.state = "Up"
            self._emit("ChannelStateChange", channel=self._ch(ch))
        return web.Response(status=204)

    def emit_raw(self, event: dict[str, Any]) -> None:
        self._send(event)

    def bridge_of(self, channel_id: str) -> str | None:
        ch = self.channels.get(channel_id)
        return ch.bridge if ch is not None else None

    def calls_to(self, path_part: str) -> list[tuple[str, str, dict[str, str]]]:
        return [r for r in self.requests if path_part in r[1]]

    # -- events ----------------------------------------------------------------------------
    def _ch(self, ch: FakeChannel) -> dict[str, Any]:
        app_name, app_data = ("Stasis", f"{ch.app},{','.join(ch.args)}") if ch.in_stasis \
            else ("AppDial2", "(Outgoing Line)")
        return {
            "id": ch.id, "name": ch.name, "state": ch.state, "protocol_id": "",
            "caller": {"name": "", "number": ch.caller},
            "connected": {"name": "", "number": ch.caller}, "accountcode": "",
            "dialplan": {"context": ch.context, "exten": "s", "priority": 1,
                         "app_name": app_name, "app_data": app_data},
            "creationtime": ch.created, "language": "ko",
            **({"channelvars": {"UNICASTRTP_LOCAL_ADDRESS": ch.rtp_local[0],
                                "UNICASTRTP_LOCAL_PORT": str(ch.rtp_local[1])}}
               if ch.rtp_local else {}),
        }  # fmt: skip

    def _br(self, br: FakeBridge) -> dict[str, Any]:
        return {"id": br.id, "technology": "simple_bridge", "bridge_type": br.type,
                "bridge_class": "stasis", "creator": "Stasis", "name": br.name,
                "channels": list(br.channels), "creationtime": br.created,
                "video_mode": "talker"}  # fmt: skip

    def _emit(self, kind: str, **fields: Any) -> None:
        self._send({"type": kind, "timestamp": now_text(), **fields,
                    "asterisk_id": ASTERISK_ID, "application": "telemart"})

    async def until(self, check: Callable[[], object], within: float = 2.0) -> None:
        """Wait until `check()` holds; every event the fake sends wakes it."""
        async with asyncio.timeout(within):
            while not check():
                self._changed.clear()
                await self._changed.wait()

    def _send(self, event: dict[str, Any]) -> None:
        self._changed.set()
        if self.keep_sent:
            self.sent.append(event)
        if not self.sockets:
            return  # nobody listens: Asterisk drops the event
        text = json.dumps(event)
        for app, ws in list(self.sockets.items()):
            allowed = self.filters.get(app)
            if not ws.closed and (allowed is None or event.get("type") in allowed):
                asyncio.get_running_loop().create_task(_send_quietly(ws, text))

    # -- REST ------------------------------------------------------------------------------
    def _routes(self) -> None:
        r = self.app.router
        r.add_get("/ari/asterisk/info", self.info)
        r.add_get("/ari/events", self.events)
        r.add_put("/ari/applications/{app}/eventFilter", self.event_filter)
        r.add_get("/ari/channels", self.list_channels)
        r.add_post("/ari/channels/externalMedia", self.external_media)
        r.add_post("/ari/channels/{id}", self.originate)
        r.add_get("/ari/channels/{id}", self.get_channel)
        r.add_delete("/ari/channels/{id}", self.hangup)
        r.add_post("/ari/channels/{id}/continue", self.continue_)
        r.add_post("/ari/channels/{id}/answer", self.answer)
        r.add_post("/ari/channels/{id}/play/{pb}", self.play)
        r.add_post("/ari/channels/{id}/mute", self.mute)
        r.add_delete("/ari/channels/{id}/mute", self.unmute)
        r.add_post("/ari/channels/{id}/snoop/{snoop}", self.snoop)
        r.add_post("/ari/bridges/{id}", self.create_bridge)
        r.add_get("/ari/bridges/{id}", self.get_bridge)
        r.add_delete("/ari/bridges/{id}", self.destroy_bridge)
        r.add_post("/ari/bridges/{id}/addChannel", self.add_channel)
        r.add_delete("/ari/playbacks/{pb}", self.stop_playback)
        r.add_post("/ari/bridges/{id}/removeChannel", self.remove_channel)
        r.add_post("/ari/bridges/{id}/moh", self.bridge_moh)
        r.add_post("/ari/bridges/{id}/play", self.bridge_play)
        r.add_post("/ari/bridges/{id}/record", self.record)
        r.add_post("/ari/recordings/live/{name}/stop", self.stop_recording)
        r.add_get("/ari/recordings/stored/{name}/file", self.stored_file)
        r.add_delete("/ari/recordings/stored/{name}", self.delete_stored)

    def _authorised(self, request: web.Request) -> bool:
        key = request.query.get("api_key")
        if key is not None:
            return key == f"{self.user}:{self.password}"
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            given = base64.b64decode(header[6:]).decode()
        except ValueError:
            return False
        return given == f"{self.user}:{self.password}"

    def _log(self, request: web.Request) -> None:
        self.requests.append((request.method, request.path, dict(request.query)))
        if not self._authorised(request):
            raise _error(401, "Authentication required")

    async def info(self, request: web.Request) -> web.Response:
        self._log(request)
        return web.json_response({"system": {"version": "22.10.1", "entity_id": ASTERISK_ID}})

    async def events(self, request: web.Request) -> web.WebSocketResponse:
        self._log(request)
        if self.refuse_events:
            raise _error(503, "Service Unavailable")
        app = request.query.get("app", "")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        old = self.sockets.get(app)
        if old is not None:
            await old.send_str(json.dumps({"type": "ApplicationReplaced", "application": app,
                                           "timestamp": now_text()}))
            await old.close()
        self.sockets[app] = ws
        try:
            async for _ in ws:
                pass
        finally:
            if self.sockets.get(app) is ws:
                del self.sockets[app]
        return ws

    async def event_filter(self, request: web.Request) -> web.Response:
        self._log(request)
        body = await request.json()
        allowed = frozenset(str(f.get("type")) for f in body.get("allowed") or [])
        self.filters[request.match_info["app"]] = allowed
        return web.json_response({"name": request.match_info["app"],
                                  "events_allowed": [{"type": t} for t in sorted(allowed)]})

    async def list_channels(self, request: web.Request) -> web.Response:
        self._log(request)
        return web.json_response([self._ch(c) for c in self.channels.values()])

    async def get_channel(self, request: web.Request) -> web.Response:
        self._log(request)
        return web.json_response(self._ch(self._channel(request)))

    async def originate(self, request: web.Request) -> web.Response:
        self._log(request)
        cid = request.match_info["id"]
        q = request.query
        if cid in self.channels:
            raise _error(409, "Channel with given unique ID already exists")
        m = _ENDPOINT.match(q.get("endpoint", ""))
        if m is None or "app" not in q:
            raise _error(400, "Endpoint parameter is not valid")
        body = await request.json() if request.can_read_body else {}
        resource = m["resource"]
        behaviour = self.behaviours.get(resource, HUMAN)
        ch = FakeChannel(
            id=cid, name=f"{m['tech']}/{resource}-{next(self._seq):08x}", endpoint=q["endpoint"],
            app=q["app"], args=[a for a in q.get("appArgs", "").split(",") if a],
            caller=_number(q.get("callerId", "")), behaviour=behaviour,
            context="from-carrier" if m["trunk"] else "from-agents", created=now_text(),
            variables=dict((body or {}).get("variables") or {}),
        )  # fmt: skip
        self.channels[cid] = ch
        ch.tasks.append(asyncio.create_task(self._dial(ch), name=f"fake-dial-{cid}"))
        return web.json_response(self._ch(ch))

    async def _dial(self, ch: FakeChannel) -> None:
        b = ch.behaviour
        self._emit("Dial", dialstatus="", forward="", dialstring=ch.endpoint.split("/", 1)[1],
                   peer=self._ch(ch))
        if b.fail is not None and b.fail != "NOANSWER":
            await asyncio.sleep(b.fail_s)
            # as Asterisk 22 says it: the request with the SIP status, then Dial, then gone
            self._emit("ChannelHangupRequest", cause=b.cause,
                       tech_cause=SIP_STATUS.get(b.cause, 500), channel=self._ch(ch))
            self._emit("Dial", dialstatus=b.fail, forward="", dialstring="", peer=self._ch(ch))
            self._destroy(ch, b.cause, tech_cause=SIP_STATUS.get(b.cause, 500))
            return
        await asyncio.sleep(b.ring_s)
        ch.state = "Ringing"
        self._emit("ChannelStateChange", channel=self._ch(ch))
        self._emit("Dial", dialstatus="RINGING", forward="", dialstring="", peer=self._ch(ch))
        if b.answer_s is None or b.fail == "NOANSWER":
            return  # rings until someone hangs it up
        await asyncio.sleep(b.answer_s)
        ch.state = "Up"
        self._emit("ChannelStateChange", channel=self._ch(ch))
        self._emit("Dial", dialstatus="ANSWER", forward="", dialstring="", peer=self._ch(ch))
        self._enter_stasis(ch)
        if b.hangup_after_s is not None:
            await asyncio.sleep(b.hangup_after_s)
            self.remote_hangup(ch.id, 16)

    def _enter_stasis(self, ch: FakeChannel) -> None:
        ch.in_stasis = True
        self._emit("ChannelVarset", variable="STASISSTATUS", value="", channel=self._ch(ch))
        self._emit("StasisStart", args=list(ch.args), channel=self._ch(ch))

    async def hangup(self, request: web.Request) -> web.Response:
        self._log(request)
        ch = self._channel(request)
        cause = int(request.query.get("reason_code") or 16)
        # Asterisk 22 reports a hang-up asked over ARI as a soft request, cause 32
        self._emit("ChannelHangupRequest", cause=32, soft=True, channel=self._ch(ch))
        if ch.state != "Up":
            self._emit("Dial", dialstatus="NOANSWER" if cause == 19 else "CANCEL", forward="",
                       dialstring="", peer=self._ch(ch))
        self._destroy(ch, cause)
        return web.Response(status=204)

    def _destroy(self, ch: FakeChannel, cause: int, *, tech_cause: int | None = None) -> None:
        if self.channels.get(ch.id) is not ch:
            return
        self._cancel(ch)
        for pb, info in ch.playbacks.items():  # words not yet said are never heard
            self._pb_tasks.pop(pb, None)
            self._emit("PlaybackFinished", playback={**info, "state": "failed"})
        ch.playbacks.clear()
        self._leave_bridge(ch)
        if ch.in_stasis:
            ch.in_stasis = False
            self._emit("StasisEnd", channel=self._ch(ch))
        del self.channels[ch.id]
        transport = self._rtp.pop(ch.id, None)
        if transport is not None:
            transport.close()
        extra = {} if tech_cause is None else {"tech_cause": tech_cause}
        self._emit("ChannelDestroyed", cause=cause, cause_txt=CAUSE_TXT.get(cause, "Unknown"),
                   **extra, channel=self._ch(ch))
        for other in list(self.channels.values()):  # a snoop dies with what it spies on
            if other.snoop_of == ch.id:
                self._destroy(other, 16)

    def _cancel(self, ch: FakeChannel) -> None:
        current = asyncio.current_task()
        for task in ch.tasks:
            if task is not current:
                task.cancel()
        ch.tasks.clear()

    async def continue_(self, request: web.Request) -> web.Response:
        self._log(request)
        ch = self._channel(request)
        if not ch.in_stasis:
            raise _error(409, "Channel not in Stasis application")
        ch.in_stasis = False
        self._leave_bridge(ch)
        self._emit("StasisEnd", channel=self._ch(ch))
        ch.context = request.query.get("context", "default")
        ch.tasks.append(asyncio.create_task(self._amd(ch), name=f"fake-amd-{ch.id}"))
        return web.Response(status=204)

    async def _amd(self, ch: FakeChannel) -> None:
        b = ch.behaviour
        self._emit("ChannelDialplan", dialplan_app="AMD", dialplan_app_data="",
                   channel=self._ch(ch))
        await asyncio.sleep(b.amd_s)
        self._emit("ChannelVarset", variable="AMDSTATUS", value=b.amd, channel=self._ch(ch))
        self._emit("ChannelVarset", variable="AMDCAUSE", value=b.amd_cause, channel=self._ch(ch))
        ch.args = ["amd", b.amd, b.amd_cause]
        ch.app = ch.variables.get("TM_APP", ch.app)
        self._enter_stasis(ch)

    async def play(self, request: web.Request) -> web.Response:
        self._log(request)
        ch = self._channel(request)
        pb = request.match_info["pb"]
        return self._playback(pb, request.query.get("media", ""), f"channel:{ch.id}", ch)

    def _playback(self, pb: str, media: str, target: str, ch: FakeChannel | None) -> web.Response:
        # a channel's playbacks play one after the other: each waits for those before it
        ahead = (
            []
            if ch is None
            else [self._pb_tasks[p][1] for p in ch.playbacks if p in self._pb_tasks]
        )
        info = {
            "id": pb,
            "media_uri": media,
            "target_uri": target,
            "language": "ko",
            "state": "queued" if ahead else "playing",
        }
        if ch is not None:
            ch.playbacks[pb] = info

        async def say() -> None:
            if ahead:
                await asyncio.wait(ahead)
            if info["state"] != "canceled":
                info["state"] = "playing"
                self._emit("PlaybackStarted", playback=dict(info))
                length_s = await self._media_length(media)
                if length_s is None:  # as Asterisk: started, then failed at once
                    self._finished(pb, state="failed")
                    return
                await asyncio.sleep(length_s)
            self._finished(pb)

        task = asyncio.create_task(say(), name=f"fake-play-{pb}")
        self._pb_tasks[pb] = (ch, task, info)
        if ch is not None:
            ch.tasks.append(task)
        return web.json_response(info, status=201)

    async def _media_length(self, media: str) -> float | None:
        """How long a media plays; None when Asterisk could not play it. A `sound:` with
        `://` is fetched over HTTP, as Asterisk's media cache does (res_http_media_cache):
        it plays when the answer is a 200 named `.wav` or typed `audio/wav`, for the WAV's
        length; the bytes are kept in `fetched`."""
        url = media.removeprefix("sound:")
        if "://" not in url:
            return self.prompt_s
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as resp:
                body = await resp.read()
                kind = resp.headers.get("Content-Type", "")
        except aiohttp.ClientError:
            return None
        if resp.status != 200 or not (url.endswith(".wav") or kind.startswith("audio/")):
            return None
        self.fetched[url] = body
        with contextlib.suppress(wave.Error, EOFError):
            with wave.open(io.BytesIO(body)) as w:
                return float(w.getnframes() / w.getframerate()) / self.remote_speed
        return None

    def _finished(self, pb: str, *, state: str = "done") -> None:
        """A playback ends, said to its end, stopped or cancelled: Asterisk reports each as
        PlaybackFinished with state `done` (res_stasis_playback's state_to_string), and one
        whose media it could not open as `failed`."""
        found = self._pb_tasks.pop(pb, None)
        if found is None:
            return
        ch, _, info = found
        if ch is not None:
            ch.playbacks.pop(pb, None)
        self._emit("PlaybackFinished", playback={**info, "state": state})

    async def stop_playback(self, request: web.Request) -> web.Response:
        """DELETE /playbacks/{id}: the one playing stops now; one queued is cancelled and
        ends when its turn comes, without being heard (Asterisk 22: playback_stop and
        playback_cancel). Both report `done`; a playback over already is a 404."""
        self._log(request)
        pb = request.match_info["pb"]
        found = self._pb_tasks.get(pb)
        if found is None:
            raise _error(404, "Playback not found")
        _, task, info = found
        if info["state"] == "queued":
            info["state"] = "canceled"
        elif info["state"] == "playing":
            task.cancel()
            self._finished(pb)
        return web.Response(status=204)

    async def mute(self, request: web.Request) -> web.Response:
        self._log(request)
        self._channel(request).muted.add(request.query.get("direction", "both"))
        return web.Response(status=204)

    async def unmute(self, request: web.Request) -> web.Response:
        self._log(request)
        self._channel(request).muted.discard(request.query.get("direction", "both"))
        return web.Response(status=204)

    async def snoop(self, request: web.Request) -> web.Response:
        self._log(request)
        target = self._channel(request)
        sid = request.match_info["snoop"]
        q = request.query
        ch = FakeChannel(id=sid, name=f"Snoop/{target.id}-{next(self._seq):08x}",
                         endpoint="", app=q["app"],
                         args=[a for a in q.get("appArgs", "").split(",") if a],
                         state="Up", context="default", snoop_of=target.id,
                         spy=q.get("spy", "none"), whisper=q.get("whisper", "none"),
                         behaviour=target.behaviour, created=now_text())  # fmt: skip
        self.channels[sid] = ch
        self._enter_stasis(ch)
        return web.json_response(self._ch(ch))

    async def external_media(self, request: web.Request) -> web.Response:
        self._log(request)
        q = request.query
        cid = q.get("channelId") or f"ext-{next(self._seq)}"
        host, _, port = q.get("external_host", "").rpartition(":")
        if not host or not port.isdigit() or q.get("format") != "ulaw":
            raise _error(400, "external_host and format=ulaw are required here")
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
        local = transport.get_extra_info("sockname")
        ch = FakeChannel(id=cid, name=f"UnicastRTP/{host}:{port}-{next(self._seq):08x}",
                         endpoint="", app=q["app"],
                         args=[a for a in q.get("appArgs", "").split(",") if a], state="Up",
                         context="default", external_host=(host, int(port)),
                         rtp_local=(local[0], local[1]), created=now_text())  # fmt: skip
        self.channels[cid] = ch
        self._rtp[cid] = transport
        self._enter_stasis(ch)
        return web.json_response(self._ch(ch))

    async def create_bridge(self, request: web.Request) -> web.Response:
        self._log(request)
        bid = request.match_info["id"]
        if bid in self.bridges:
            raise _error(409, f"Bridge with id '{bid}' already exists")
        br = FakeBridge(id=bid, name=request.query.get("name", ""),
                        type=request.query.get("type", "mixing"), created=now_text())
        self.bridges[bid] = br
        return web.json_response(self._br(br))

    async def get_bridge(self, request: web.Request) -> web.Response:
        self._log(request)
        return web.json_response(self._br(self._bridge(request)))

    async def destroy_bridge(self, request: web.Request) -> web.Response:
        self._log(request)
        br = self._bridge(request)
        for cid in list(br.channels):
            ch = self.channels.get(cid)
            if ch is not None:
                self._leave_bridge(ch)
        del self.bridges[br.id]
        self._emit("BridgeDestroyed", bridge=self._br(br))
        return web.Response(status=204)

    async def add_channel(self, request: web.Request) -> web.Response:
        self._log(request)
        br = self._bridge(request)
        ids = [c for c in request.query.get("channel", "").split(",") if c]
        chans = [self.channels.get(c) for c in ids]
        if not ids or any(c is None for c in chans):
            raise _error(400, "Channel not found")
        for ch in chans:
            assert ch is not None
            if not ch.in_stasis:
                raise _error(422, "Channel not in Stasis application")
        # Asterisk runs a channel's addChannel after the playback under way on it ends (seen
        # on 22.10.1: 8.7 s with the ARS welcome still playing)
        saying = [self._pb_tasks[pb][1] for ch in chans if ch is not None
                  for pb in ch.playbacks if pb in self._pb_tasks]  # fmt: skip
        if saying:
            await asyncio.wait(saying)
        for ch in chans:
            assert ch is not None
            if ch.bridge == br.id:
                continue
            self._leave_bridge(ch)  # ARI departs the channel's current bridge first
            ch.bridge = br.id
            br.channels.append(ch.id)
            self._emit("ChannelEnteredBridge", bridge=self._br(br), channel=self._ch(ch))
        self._maybe_stream(br)
        return web.Response(status=204)

    async def remove_channel(self, request: web.Request) -> web.Response:
        self._log(request)
        br = self._bridge(request)
        ch = self.channels.get(request.query.get("channel", ""))
        if ch is None or ch.bridge != br.id:
            raise _error(422, "Channel not in this bridge")
        self._leave_bridge(ch)
        return web.Response(status=204)

    def _leave_bridge(self, ch: FakeChannel, *, quiet: bool = False) -> None:
        br = self.bridges.get(ch.bridge or "")
        ch.bridge = None
        if br is None or ch.id not in br.channels:
            return
        br.channels.remove(ch.id)
        if not quiet:
            self._emit("ChannelLeftBridge", bridge=self._br(br), channel=self._ch(ch))

    async def bridge_moh(self, request: web.Request) -> web.Response:
        self._log(request)
        self._bridge(request).moh = True
        return web.Response(status=204)

    async def bridge_play(self, request: web.Request) -> web.Response:
        self._log(request)
        br = self._bridge(request)
        pb = request.query.get("playbackId") or f"pb-{next(self._seq)}"
        return self._playback(pb, request.query.get("media", ""), f"bridge:{br.id}", None)

    async def record(self, request: web.Request) -> web.Response:
        self._log(request)
        br = self._bridge(request)
        name = request.query.get("name", "")
        if not name or ".." in name:
            raise _error(400, "Recording name invalid")
        if name in self.live_recordings:
            raise _error(409, f"Recording '{name}' already in progress")
        self.live_recordings[name] = (br.id, time.monotonic())
        info = {"name": name, "format": request.query.get("format", "wav"),
                "state": "recording", "target_uri": f"bridge:{br.id}"}
        self._emit("RecordingStarted", recording=info)
        return web.json_response(info, status=201)

    async def stop_recording(self, request: web.Request) -> web.Response:
        self._log(request)
        name = request.match_info["name"]
        found = self.live_recordings.pop(name, None)
        if found is None:
            raise _error(404, "Recording not found")
        bridge_id, started = found
        duration = max(1, round(time.monotonic() - started))
        self.stored[name] = silent_wav(duration)
        self._emit("RecordingFinished", recording={
            "name": name, "format": "wav", "state": "done", "target_uri": f"bridge:{bridge_id}",
            "duration": duration})  # fmt: skip
        return web.Response(status=204)

    async def stored_file(self, request: web.Request) -> web.Response:
        self._log(request)
        data = self.stored.get(request.match_info["name"])
        if data is None:
            raise _error(404, "Recording not found")
        return web.Response(body=data, content_type="audio/wav")

    async def delete_stored(self, request: web.Request) -> web.Response:
        self._log(request)
        if self.stored.pop(request.match_info["name"], None) is None:
            raise _error(404, "Recording not found")
        return web.Response(status=204)

    def _channel(self, request: web.Request) -> FakeChannel:
        ch = self.channels.get(request.match_info["id"])
        if ch is None:
            raise _error(404, "Channel not found")
        return ch

    def _bridge(self, request: web.Request) -> FakeBridge:
        br = self.bridges.get(request.match_info["id"])
        if br is None:
            raise _error(404, "Bridge not found")
        return br

    # -- external media --------------------------------------------------------------------
    def _maybe_stream(self, br: FakeBridge) -> None:
        members = [self.channels[c] for c in br.channels if c in self.channels]
        ext = next((c for c in members if c.external_host is not None), None)
        snoop = next((c for c in members if c.snoop_of is not None), None)
        if ext is None or snoop is None or ext.tasks:
            return
        ext.tasks.append(asyncio.create_task(self._stream(ext, snoop.behaviour.audio),
                                             name=f"fake-rtp-{ext.id}"))

    async def _stream(self, ext: FakeChannel, audio: bytes) -> None:
        transport = self._rtp.get(ext.id)
        assert transport is not None
        assert ext.external_host is not None
        seq, ts, ssrc = 0, 0, 0x7E1E3A47
        frame = 160  # 20 ms of µ-law at 8 kHz
        padded = audio + b"\xff" * (frame * 250)  # then silence (0xff is µ-law zero)
        for start in range(0, len(padded), frame):
            header = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
            transport.sendto(header + padded[start : start + frame], ext.external_host)
            seq, ts = seq + 1, ts + frame
            await asyncio.sleep(0.02 / RTP_SPEED)


async def _send_quietly(ws: web.WebSocketResponse, text: str) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_str(text)


def _error(status: int, message: str) -> web.HTTPException:
    cls = {400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 404: web.HTTPNotFound,
           409: web.HTTPConflict, 422: web.HTTPUnprocessableEntity,
           503: web.HTTPServiceUnavailable}[status]  # fmt: skip
    return cls(text=json.dumps({"message": message}), content_type="application/json")


def _number(caller_id: str) -> str:
    found = re.search(r"<([^>]*)>", caller_id)
    return found.group(1) if found else caller_id


def silent_wav(seconds: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(16000 * seconds))
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description="ARI fake (tests and benchmarks only)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user", default="telemart")
    parser.add_argument("--password", default="secret")
    args = parser.parse_args()

    async def run() -> None:
        fake = AriFake(user=args.user, password=args.password)
        fake.keep_sent = False
        url = await fake.start(args.host, args.port)
        print(url, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
