"""`telemart bench amd`: how well AMD `vad` tells a person from an answering machine, on
Korean greetings made here with espeak-ng and sox.

Each greeting is spoken at several speeds and pitches, after a short or long pause, with
or without line noise, band-limited to the telephone's 300-3400 Hz and coded as G.711
µ-law at 8 kHz (what Asterisk sends), then classified as a call would be. People answer
the way Korean callees do ("여보세요?", "네, 말씀하세요."), then wait; machines play a
voicemail or carrier greeting. Baseline in the same run: the same decision rules on an
energy threshold instead of the voice-activity model (how Asterisk's AMD() hears speech).

Synthetic voices are not recorded people: the figure says how the classifier reads the
shape of a greeting, not how it fares on every real line (docs/telephony.md).
"""

from __future__ import annotations

import argparse
import array
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from dialer.telephony.ari.amd import classify_pcm, pcm16_to_ulaw, ulaw_to_pcm16
from dialer.telephony.events import AnswerKind

HUMAN = (
    "여보세요?", "네, 여보세요.", "여보세요~", "네?", "네, 말씀하세요.", "예, 여보세요?",
    "여보세요, 누구세요?", "네, 김민지입니다.",
)
MACHINE = (
    "지금은 전화를 받을 수 없습니다. 삐 소리가 나면 메시지를 남겨 주세요.",
    "고객님의 전화기가 꺼져 있어 음성사서함으로 연결됩니다. 삐 소리 후 녹음하여 주십시오.",
    "안녕하세요, 김민수입니다. 지금은 통화할 수 없으니 메시지를 남겨 주시면 연락드리겠습니다.",
    "연결이 되지 않아 음성사서함으로 연결되오니 삐 소리 후 메시지를 남겨 주세요.",
    "지금 거신 전화는 사용자의 사정으로 당분간 착신이 정지되어 있습니다.",
    "안녕하세요. 텔레마트 고객센터입니다. 상담 시간은 평일 오전 아홉 시부터입니다.",
)
SPEEDS = (140, 175, 210)  # words per minute
PITCHES = (35, 65)
PAUSES_S = (0.2, 0.8)  # silence before the callee speaks
# line noise (standard deviation of 16-bit samples): a quiet line (about -60 dBFS), a
# noisy one (about -35 dBFS: a street, a car)
NOISE = {"quiet": 30.0, "noisy": 600.0}
ENERGY_THRESHOLD = 256  # Asterisk amd.conf's silence_threshold (average magnitude)


def register(bench_sub: Any) -> None:
    p = bench_sub.add_parser("amd", help="AMD vad accuracy on Korean greetings")
    p.add_argument("--json", action="store_true", help="print only the JSON line")
    p.set_defaults(func=cmd_bench_amd)


def _energy_is_speech(frame: bytes) -> bool:
    samples = array.array("h")
    samples.frombytes(frame)
    return sum(abs(s) for s in samples) / max(1, len(samples)) > ENERGY_THRESHOLD


def _make(text: str, speed: int, pitch: int, pause_s: float, noise: float, folder: Path,
          n: int) -> bytes:
    """The greeting as Asterisk would send it: µ-law 8 kHz, decoded to 16-bit PCM."""
    spoken, line = folder / f"{n}.wav", folder / f"{n}.ul"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", str(speed), "-p", str(pitch), "-w",
                    str(spoken), text], check=True, capture_output=True)
    effects = ["pad", str(pause_s), "0", "sinc", "300-3400", "rate", "8000"]
    subprocess.run(["sox", str(spoken), "-c", "1", "-t", "ul", str(line), *effects],
                   check=True, capture_output=True)
    pcm = ulaw_to_pcm16(line.read_bytes())
    if noise:  # background noise on the line, seeded (reproducible)
        rng = random.Random(n)
        voice = array.array("h")
        voice.frombytes(pcm)
        pcm = array.array("h", (max(-32768, min(32767, v + int(rng.gauss(0, noise))))
                                for v in voice)).tobytes()
        pcm = ulaw_to_pcm16(pcm16_to_ulaw(pcm))
    return pcm


def _score(results: list[tuple[str, AnswerKind, int]]) -> dict[str, Any]:
    humans = [k for truth, k, _ in results if truth == "human"]
    machines = [k for truth, k, _ in results if truth == "machine"]
    right = sum(k is AnswerKind.LIVE for k in humans) + \
        sum(k is AnswerKind.MACHINE for k in machines)
    return {
        "accuracy": round(right / len(results), 3),
        "human_as_live": sum(k is AnswerKind.LIVE for k in humans),
        "human_as_machine": sum(k is AnswerKind.MACHINE for k in humans),
        "human_unknown": sum(k is AnswerKind.UNKNOWN for k in humans),
        "machine_as_machine": sum(k is AnswerKind.MACHINE for k in machines),
        "machine_as_live": sum(k is AnswerKind.LIVE for k in machines),
        "machine_unknown": sum(k is AnswerKind.UNKNOWN for k in machines),
        "decided_ms_p50": statistics.median(ms for _, _, ms in results),
        "decided_ms_max": max(ms for _, _, ms in results),
    }  # fmt: skip


def cmd_bench_amd(args: argparse.Namespace) -> int:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed to make the greetings (apt-get install {tool})")
    vad: dict[str, list[tuple[str, AnswerKind, int]]] = {line: [] for line in NOISE}
    energy: dict[str, list[tuple[str, AnswerKind, int]]] = {line: [] for line in NOISE}
    with tempfile.TemporaryDirectory(prefix="telemart-amd-") as tmp:
        n = 0
        for truth, phrases in (("human", HUMAN), ("machine", MACHINE)):
            for text, speed, pitch, pause_s, line in itertools.product(
                    phrases, SPEEDS, PITCHES, PAUSES_S, NOISE):
                n += 1
                pcm = _make(text, speed, pitch, pause_s, NOISE[line], Path(tmp), n)
                found = classify_pcm(pcm)
                vad[line].append((truth, found.kind, found.audio_ms))
                base = classify_pcm(pcm, is_speech=_energy_is_speech)
                energy[line].append((truth, base.kind, base.audio_ms))
    every = [r for rows in vad.values() for r in rows]
    result = {
        "greetings": len(every), "human": sum(t == "human" for t, _, _ in every),
        "machine": sum(t == "machine" for t, _, _ in every),
        "vad": {"all": _score(every), **{line: _score(rows) for line, rows in vad.items()}},
        "baseline_energy": {"all": _score([r for rows in energy.values() for r in rows]),
                            **{line: _score(rows) for line, rows in energy.items()}},
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }  # fmt: skip
    if not args.json:
        for name in ("vad", "baseline_energy"):
            scores: Any = result[name]
            print(f"{name}: accuracy {scores['all']['accuracy']} (quiet line "
                  f"{scores['quiet']['accuracy']}, noisy line {scores['noisy']['accuracy']})")
    print(json.dumps(result))
    return 0
