"""Spoken words made on the fly: the ARS's filled-in steps (the products on air, the total,
the caller's name) have no recording, so the Asterisk driver says them by text-to-speech.

`Speech.render(words)` turns Korean text into an 8 kHz mono 16-bit WAV (what Asterisk's
`format_wav` plays without a transcoder) with Debian's `espeak-ng` and `sox`, run as
subprocesses so nothing slow runs on the event loop. `SpeechServer` serves the files over
HTTP and the driver plays them as `sound:<url>/<name>`: Asterisk's file player fetches any
`://` media through its HTTP media cache (`res_http_media_cache`, with `res_curl`), so the
dialer need not share a disk with Asterisk.

The words may name the customer and the last digits of their card, so:
- a file's name is an HMAC of its words under a key made when the process starts, not
  their hash: nobody can test a guess of the words against the server;
- files live in a private folder (0700) and are deleted `keep_s` after their last use;
- the server answers only `GET /speech/<64 hex>.wav` for files that exist; bind it where
  only Asterisk reaches it (`TELEMART_ARI_SPEECH_LISTEN`).

The same words asked for again (the product list, heard by every caller of a broadcast)
are rendered once; concurrent asks for the same words wait for one render.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from dialer.errors import TelephonyConfigError, TelephonyError

log = logging.getLogger(__name__)

TOOLS = ("espeak-ng", "sox")
VOICE = "ko"
WORDS_PER_MINUTE = 165  # espeak-ng's default 175 runs Korean numbers together
SAMPLE_RATE = 8000  # Asterisk's `format_wav` plays 8 kHz; anything else it refuses
KEEP_S = 600.0  # a file not asked for this long is deleted (the words may be personal)
RENDER_TIMEOUT_S = 20.0
MAX_WORDS_CHARS = 2000  # a product list of 9 products with options is ~500
RENDERS_AT_ONCE = 2  # one per core: espeak-ng is CPU-bound for the ~30 ms it runs
NAME = re.compile(r"[0-9a-f]{64}\.wav")
ROUTE = "/speech/{name}"


class SpeechError(TelephonyError):
    """The words could not be made into sound."""


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def check_tools() -> None:
    """Raise `TelephonyConfigError` naming the Debian packages to install."""
    missing = missing_tools()
    if missing:
        raise TelephonyConfigError(
            f"spoken prompts need {' and '.join(missing)}: "
            f"apt-get install {' '.join(missing)} (or unset TELEMART_ARI_SPEECH_URL)")


async def check_voice(voice: str) -> None:
    """Raise `TelephonyConfigError` unless espeak-ng has the voice: given one it lacks, it
    says the words in another language without a word of warning."""
    out = await _run("espeak-ng", "--voices")
    known = set()
    for line in out.decode(errors="replace").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5:
            known.update({fields[1], fields[3], fields[4], fields[4].rsplit("/", 1)[-1]})
    if voice not in known:
        raise TelephonyConfigError(
            f"TELEMART_ARI_SPEECH_VOICE {voice!r}: espeak-ng has no such voice "
            "(`espeak-ng --voices` lists them; Korean is `ko`)")


async def check_speech(voice: str) -> None:
    """The tools and the voice, before anything is said: `TelephonyConfigError` if not."""
    check_tools()
    await check_voice(voice)


def listen_address(url: str, listen: str | None) -> tuple[str, int]:
    """Where the speech server binds: `listen` ("host:port"), else the URL's host and port."""
    where = listen if listen else url.split("://", 1)[-1].rstrip("/")
    host, sep, port = where.rpartition(":")
    if not listen and not sep:
        host, port = where, "443" if url.startswith("https") else "80"
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        setting = "TELEMART_ARI_SPEECH_LISTEN" if listen else "TELEMART_ARI_SPEECH_URL"
        raise TelephonyConfigError(f"{setting} {where!r}: give host:port, e.g. 0.0.0.0:8089")
    return host, int(port)


class Speech:
    """Words to WAV files in a private folder, named by a keyed hash of the words."""

    def __init__(self, *, folder: Path | None = None, voice: str = VOICE,
                 words_per_minute: int = WORDS_PER_MINUTE, keep_s: float = KEEP_S,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.folder = folder or Path(tempfile.mkdtemp(prefix="telemart-speech-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        self.voice = voice
        self.words_per_minute = words_per_minute
        self.keep_s = keep_s
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._used: dict[str, float] = {}  # file name -> last asked for (clock)
        self._rendering: dict[str, asyncio.Future[None]] = {}
        self._slots = asyncio.Semaphore(RENDERS_AT_ONCE)
        self.renders = 0  # words actually rendered (the rest came from the folder)

    def name(self, words: str) -> str:
        digest = hmac.new(self._key, f"{self.voice}\0{self.words_per_minute}\0{words}".encode(),
                          hashlib.sha256).hexdigest()  # fmt: skip
        return f"{digest}.wav"

    def path(self, name: str) -> Path | None:
        """The file of a name this process made and still keeps, else None."""
        if not NAME.fullmatch(name) or name not in self._used:
            return None
        path = self.folder / name
        return path if path.is_file() else None

    async def render(self, words: str) -> str:
        """The file name of the words said (made now unless already made)."""
        words = " ".join(words.split())
        if not words:
            raise SpeechError("no words to say")
        if len(words) > MAX_WORDS_CHARS:
            raise SpeechError(f"{len(words)} characters to say; at most {MAX_WORDS_CHARS}")
        name = self.name(words)
        self._used[name] = self.clock()
        pending = self._rendering.get(name)
        if pending is not None:
            await asyncio.shield(pending)
            return name
        if (self.folder / name).is_file():
            return name
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._rendering[name] = done
        try:
            async with self._slots:
                await self._render(words, self.folder / name)
            done.set_result(None)
        except BaseException as exc:
            self._used.pop(name, None)
            done.set_exception(exc if isinstance(exc, Exception) else SpeechError("cancelled"))
            done.exception()  # retrieved: a waiter may not be there to see it
            raise
        finally:
            del self._rendering[name]
        self.renders += 1
        return name

    async def _render(self, words: str, path: Path) -> None:
        await render_wav(words, path, voice=self.voice, words_per_minute=self.words_per_minute)

    def sweep(self) -> int:
        """Delete the files not asked for in `keep_s`; how many went."""
        cutoff = self.clock() - self.keep_s
        old = [name for name, used in self._used.items()
               if used < cutoff and name not in self._rendering]  # fmt: skip
        for name in old:
            del self._used[name]
            (self.folder / name).unlink(missing_ok=True)
        return len(old)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self._used.clear()


async def render_wav(words: str, path: Path, *, voice: str = VOICE,
                     words_per_minute: int = WORDS_PER_MINUTE) -> None:  # fmt: skip
    """Say the words into `path`: an 8 kHz mono 16-bit WAV, written whole or not at all
    (Asterisk may fetch it the moment it is named)."""
    raw = path.with_suffix(".raw.wav")
    part = path.with_suffix(".part.wav")
    try:
        await _run("espeak-ng", "-v", voice, "-s", str(words_per_minute),
                   "--stdin", "-w", str(raw), stdin=words.encode())  # fmt: skip
        await _run("sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16",
                   "-e", "signed-integer", str(part))  # fmt: skip
        os.replace(part, path)
    finally:
        for left in (raw, part):
            left.unlink(missing_ok=True)


async def _run(*argv: str, stdin: bytes | None = None) -> bytes:
    """Run a tool off the event loop; its output, or SpeechError saying why not."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE if stdin is not None else None,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
    except FileNotFoundError as exc:
        raise SpeechError(f"{argv[0]} is not installed (apt-get install {argv[0]})") from exc
    try:
        async with asyncio.timeout(RENDER_TIMEOUT_S):
            out, err = await proc.communicate(stdin)
    except TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise SpeechError(f"{argv[0]} took over {RENDER_TIMEOUT_S:g} s") from exc
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise SpeechError(f"{argv[0]} failed ({proc.returncode}): "
                          f"{err.decode(errors='replace').strip()[:200]}")  # fmt: skip
    return out


SPEECH_KEY = web.AppKey("speech", Speech)


async def serve_file(request: web.Request) -> web.StreamResponse:
    path = request.app[SPEECH_KEY].path(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound()
    # Asterisk's media cache picks the format by the name's extension or this type
    return web.FileResponse(path, headers={"Content-Type": "audio/wav",
                                           "Cache-Control": "no-store"})  # fmt: skip


def speech_app(speech: Speech) -> web.Application:
    app = web.Application(client_max_size=1024)
    app[SPEECH_KEY] = speech
    app.router.add_get(ROUTE, serve_file)
    return app


class SpeechServer:
    """The HTTP side: Asterisk fetches the files here; a sweep deletes the old ones."""

    SWEEP_S = 60.0

    def __init__(self, speech: Speech, *, host: str, port: int) -> None:
        self.speech = speech
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(speech_app(self.speech), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise TelephonyConfigError(
                f"TELEMART_ARI_SPEECH_LISTEN {self.host}:{self.port}: {exc.strerror}") from exc
        if self.port == 0:  # tests ask for any free port
            self.port = int(self._runner.addresses[0][1])
        self._sweeper = asyncio.create_task(self._sweep(), name="speech-sweep")

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.SWEEP_S)
            gone = self.speech.sweep()
            if gone:
                log.debug("speech: %d files past their time deleted", gone)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._runner is not None:
            await self._runner.cleanup()
        self.speech.close()
