"""The AMD `vad` classifier on Korean greetings, and its RTP and µ-law plumbing."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from dialer.telephony.ari.amd import (
    FRAME_BYTES,
    GreetingClassifier,
    classify_pcm,
    pcm16_to_ulaw,
    rtp_payload,
    ulaw_to_pcm16,
)
from dialer.telephony.causes import OUTCOMES, unanswered_outcome
from dialer.telephony.events import AnswerKind

GREETINGS = Path(__file__).parents[4] / "tests" / "fakes" / "greetings"


def _pcm(name: str) -> bytes:
    return ulaw_to_pcm16((GREETINGS / f"{name}.ul").read_bytes())


@pytest.mark.parametrize(("name", "kind"), [("human-yeoboseyo", AnswerKind.LIVE),
                                            ("human-ne-yeoboseyo", AnswerKind.LIVE),
                                            ("machine-voicemail", AnswerKind.MACHINE)])
def test_greetings_are_told_apart(name: str, kind: AnswerKind) -> None:
    decision = classify_pcm(_pcm(name))
    assert decision.kind is kind, decision.detail
    assert decision.audio_ms <= 2600  # within about 2 s of speech starting


def test_silence_stays_unknown() -> None:
    decision = classify_pcm(bytes(FRAME_BYTES * 10))
    assert decision.kind is AnswerKind.UNKNOWN
    assert decision.audio_ms == 3000


def test_the_classifier_counts_audio_time_not_calls() -> None:
    clf = GreetingClassifier()
    pcm = _pcm("machine-voicemail")
    for start in range(0, len(pcm), 37):  # any chunking gives the same answer
        if clf.feed(pcm[start : start + 37]) is not None:
            break
    assert clf.decision is not None
    assert clf.decision == classify_pcm(pcm)


def test_ulaw_round_trip_is_close() -> None:
    samples = [0, 1, -1, 100, -100, 1000, -1000, 32000, -32000]
    pcm = struct.pack(f"<{len(samples)}h", *samples)
    back = struct.unpack(f"<{len(samples)}h", ulaw_to_pcm16(pcm16_to_ulaw(pcm)))
    for a, b in zip(samples, back, strict=True):
        assert abs(a - b) <= max(8, abs(a) // 16)


def test_rtp_payload() -> None:
    header = struct.pack("!BBHII", 0x80, 0, 7, 160, 1234)
    assert rtp_payload(header + b"abc") == b"abc"
    with_csrc = struct.pack("!BBHII", 0x81, 0, 7, 160, 1234) + b"\0\0\0\1"
    assert rtp_payload(with_csrc + b"xy") == b"xy"
    assert rtp_payload(b"\x00" * 20) is None  # not version 2
    assert rtp_payload(b"\x80") is None


def test_every_cause_the_issue_names_has_an_outcome() -> None:
    for cause in (1, 17, 19, 21, 34, 38, 41, 42):
        assert cause in OUTCOMES
    assert unanswered_outcome(999).reason == "failed"
