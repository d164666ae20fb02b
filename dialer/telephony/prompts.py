"""The fixed prompts: their names (what `port.play()` is given) and their Korean words.

A centre records them (a person's voice is best where the words never change), or makes
them with `telemart prompts render`, into Asterisk's `sounds/ko/telemart/`, where the
driver's `sound:telemart/{prompt}` finds them. `telemart prompts list` prints the script.
The ARS's steps are not here: their words are filled in per call (`dialer.telephony.speech`).
"""

from __future__ import annotations

SAFE_HARBOR = "safe-harbor"  # the identification message for an abandoned live answer
MACHINE_MESSAGE = "machine-message"  # what an answering machine is told (amd_machine)
RECORDING_NOTICE = "recording-notice"  # heard first on a recorded call
POSITION = "queue-position-{n}"
WAIT = "queue-wait-{m}-min"
WAIT_UNKNOWN = "queue-wait-unknown"  # no agent serves the queue now
CALLBACK_OFFER = "callback-offer"
CALLBACK_CONFIRMED = "callback-confirmed"
MAX_POSITION = 20  # "you are caller number 20 or later"
MAX_WAIT_MIN = 30  # "about 30 minutes or more"


class PromptWordsError(ValueError):
    """The words of a prompt could not be filled in."""


def script(*, company: str, opt_out_number: str) -> dict[str, str]:
    """Every fixed prompt's name and Korean words. The safe-harbor message and the machine
    message must say who calls and how to refuse further calls free of charge
    (정보통신망법 §50), so they name the company and its free opt-out number."""
    company, opt_out_number = company.strip(), opt_out_number.strip()
    if not company or len(company) > 40:
        raise PromptWordsError("company: the name callers know you by, 1 to 40 characters")
    if not opt_out_number or not all(c.isdigit() or c == "-" for c in opt_out_number) \
            or sum(c.isdigit() for c in opt_out_number) < 7:  # fmt: skip
        raise PromptWordsError("opt_out_number: a free number, digits and dashes (080-…)")
    words = {
        SAFE_HARBOR: f"안녕하세요, {company}입니다. 지금은 상담원이 모두 통화 중이라 "
        f"다시 연락드리겠습니다. 전화 수신을 원하지 않으시면 무료 전화 {opt_out_number}번으로 "
        "알려 주십시오.",
        MACHINE_MESSAGE: f"안녕하세요, {company}입니다. 다음에 다시 연락드리겠습니다. "
        f"전화 수신을 원하지 않으시면 무료 전화 {opt_out_number}번으로 알려 주십시오.",
        RECORDING_NOTICE: "이 통화는 상담 품질 향상과 계약 확인을 위해 녹음됩니다.",
        WAIT_UNKNOWN: "지금은 상담원이 모두 자리를 비워 예상 대기 시간을 알 수 없습니다. "
        "잠시만 기다려 주십시오.",
        CALLBACK_OFFER: "기다리지 않으시려면 1번을 눌러 주세요. 지금 순서를 그대로 두고 "
        "전화를 끊으시면, 차례가 되었을 때 상담원이 전화를 드립니다.",
        CALLBACK_CONFIRMED: "예약되었습니다. 차례가 되면 상담원이 지금 거신 번호로 전화를 "
        "드리겠습니다. 감사합니다.",
    }
    for n in range(1, MAX_POSITION + 1):
        said = f"{n}번째 이후" if n == MAX_POSITION else f"{n}번째"
        words[POSITION.format(n=n)] = f"고객님의 대기 순서는 {said}입니다."
    for m in range(1, MAX_WAIT_MIN + 1):
        said = f"{m}분 이상" if m == MAX_WAIT_MIN else f"{m}분"
        words[WAIT.format(m=m)] = f"예상 대기 시간은 약 {said}입니다."
    return words
