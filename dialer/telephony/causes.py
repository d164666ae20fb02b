"""What an unanswered call's Q.850 hang-up cause means for the attempt (docs/telephony.md
shows the same table).

Any port reports causes as Q.850 codes (`events.HungUp.cause`); the dialer turns the cause
of a call that never answered into an outcome (busy, no answer, failed) and a reason kept
with the attempt, so retry rules and reports can tell a busy line from a dead number.
"""

from __future__ import annotations

import dataclasses

from dialer.core.calls import CallState
from dialer.telephony.events import Cause


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CauseOutcome:
    outcome: CallState  # BUSY, NO_ANSWER or FAILED
    reason: str  # kept with the attempt: "busy", "rejected", "unallocated", ...
    bad_number: bool = False  # the number itself is wrong: retrying will not help


_C = Cause
OUTCOMES: dict[int, CauseOutcome] = {
    _C.UNALLOCATED: CauseOutcome(outcome=CallState.FAILED, reason="unallocated",
                                 bad_number=True),
    _C.NORMAL_CLEARING: CauseOutcome(outcome=CallState.NO_ANSWER, reason="no_answer"),
    _C.USER_BUSY: CauseOutcome(outcome=CallState.BUSY, reason="busy"),
    _C.NO_USER_RESPONSE: CauseOutcome(outcome=CallState.NO_ANSWER, reason="no_answer"),
    _C.NO_ANSWER: CauseOutcome(outcome=CallState.NO_ANSWER, reason="no_answer"),
    _C.CALL_REJECTED: CauseOutcome(outcome=CallState.BUSY, reason="rejected"),
    _C.NUMBER_CHANGED: CauseOutcome(outcome=CallState.FAILED, reason="number_changed",
                                    bad_number=True),
    _C.OUT_OF_ORDER: CauseOutcome(outcome=CallState.FAILED, reason="out_of_order"),
    _C.INVALID_NUMBER_FORMAT: CauseOutcome(outcome=CallState.FAILED, reason="invalid_number",
                                           bad_number=True),
    _C.NORMAL_UNSPECIFIED: CauseOutcome(outcome=CallState.NO_ANSWER, reason="no_answer"),
    _C.CONGESTION: CauseOutcome(outcome=CallState.FAILED, reason="congestion"),
    _C.NETWORK_OUT_OF_ORDER: CauseOutcome(outcome=CallState.FAILED, reason="network"),
    _C.TEMPORARY_FAILURE: CauseOutcome(outcome=CallState.FAILED, reason="temporary_failure"),
    _C.SWITCH_CONGESTION: CauseOutcome(outcome=CallState.FAILED, reason="congestion"),
}
OTHER = CauseOutcome(outcome=CallState.FAILED, reason="failed")


def unanswered_outcome(cause: int) -> CauseOutcome:
    """The outcome of a call that ended before anyone answered."""
    return OUTCOMES.get(cause, OTHER)
