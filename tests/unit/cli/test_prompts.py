"""`telemart prompts`: the fixed prompts' script and their recordings made with espeak-ng."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import pytest

from dialer.live.inbound_call import position_prompt, wait_prompt
from dialer.telephony.prompts import PromptWordsError, script

ROOT = Path(__file__).parents[3]


def _telemart(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def test_every_prompt_the_queue_can_play_has_words() -> None:
    words = script(company="텔레마트", opt_out_number="080-123-4567")
    played = {position_prompt(n) for n in range(1, 60)}
    played |= {wait_prompt(s) for s in (1.0, 59.0, 61.0, 600.0, 10_000.0, float("inf"))}
    played |= {"safe-harbor", "machine-message", "recording-notice", "callback-offer",
               "callback-confirmed"}  # fmt: skip
    assert played <= set(words), played - set(words)
    assert "080-123-4567" in words["safe-harbor"]
    assert "텔레마트" in words["safe-harbor"]
    assert words["queue-position-20"].endswith("20번째 이후입니다.")  # 20 or later
    assert words["queue-wait-3-min"] == "예상 대기 시간은 약 3분입니다."


@pytest.mark.parametrize(("company", "number"), [("", "080-123-4567"), ("텔레마트", "없음"),
                                                 ("텔레마트", "080"), ("가" * 41, "0801234567")])
def test_the_safe_harbor_needs_a_company_and_a_free_number(company: str, number: str) -> None:
    with pytest.raises(PromptWordsError):
        script(company=company, opt_out_number=number)


@pytest.mark.usefixtures("speech_tools")
def test_render_writes_every_prompt_and_keeps_what_is_there(tmp_path: Path) -> None:
    folder = tmp_path / "sounds" / "ko" / "telemart"
    folder.mkdir(parents=True)
    (folder / "safe-harbor.wav").write_bytes(b"a person's recording")
    done = _telemart("prompts", "render", "--dir", str(folder), "--company", "텔레마트",
                     "--opt-out-number", "080-123-4567")  # fmt: skip
    assert done.returncode == 0, done.stderr
    names = set(script(company="x", opt_out_number="080-123-4567"))
    assert {p.stem for p in folder.iterdir()} == names
    assert (folder / "safe-harbor.wav").read_bytes() == b"a person's recording"
    assert f"{len(names) - 1} prompts written" in done.stdout
    assert "1 kept" in done.stdout
    with wave.open(str(folder / "callback-offer.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() / w.getframerate() > 3.0
    again = _telemart("prompts", "render", "--dir", str(folder), "--company", "텔레마트",
                      "--opt-out-number", "080-123-4567", "--overwrite")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (folder / "safe-harbor.wav").read_bytes()[:4] == b"RIFF"


def test_render_says_what_is_wrong_and_writes_nothing(tmp_path: Path) -> None:
    done = _telemart("prompts", "render", "--dir", str(tmp_path / "out"), "--company", "텔레마트",
                     "--opt-out-number", "모름")  # fmt: skip
    assert done.returncode == 2
    assert "opt_out_number" in done.stderr
    assert not (tmp_path / "out").exists()


def test_list_prints_the_script() -> None:
    done = _telemart("prompts", "list", "--company", "텔레마트",
                     "--opt-out-number", "080-1234-5678")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = dict(line.split("\t", 1) for line in done.stdout.splitlines())
    assert lines["recording-notice"] == "이 통화는 상담 품질 향상과 계약 확인을 위해 녹음됩니다."
    assert "080-1234-5678" in lines["machine-message"]
