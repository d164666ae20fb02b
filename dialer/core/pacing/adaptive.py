"""`adaptive`: VICIdial's adaptive-predictive method, rebuilt from its documentation and
AST_VDadapt.pl's described behaviour (no code copied). Our baseline.

Every second it samples ready agents, live calls waiting for an agent and logged-in agents,
keeping the last 15 samples. Every 15 seconds it moves the dial level by the averaged
differential (ready - waiting) relative to the averaged agent count, scaled by an
intensity setting, bounds it to [1, adaptive_maximum_level], halves it when more than half
of the last minute's dials dropped, and applies the drop-rate clamp: once today's drops
exceed `adaptive_dropped_percentage` of answers (after 50 calls), ADAPT_HARD_LIMIT sets the
level to 1.0, ADAPT_AVERAGE halves it, ADAPT_TAPERED scales it by the time left. Drop
statistics refresh every 60 seconds, as in VICIdial. Calls to place each second follow
VICIdial's goal-calls rule (see `dial_level_calls`).
"""

from __future__ import annotations

import collections
import enum

from dialer.core.pacing.base import Outcome, OutcomeKind, PacingSettings, PacingStrategy, Snapshot
from dialer.core.pacing.simple import dial_level_calls

SAMPLES = 15  # VICIdial's stat_it: a 15-sample moving average, one sample a second
LEVEL_PERIOD_S = 15.0  # dial level recalculated every 15 seconds
DROP_STATS_PERIOD_S = 60.0  # drop counters refreshed every 60 seconds
MIN_CALLS_FOR_DROP_CLAMP = 50
MINUTE_S = 60.0
MIN_CALLS_FOR_MINUTE_RULE = 20
MINUTE_DROP_PCT_LIMIT = 50.0


class AdaptMethod(enum.Enum):
    HARD_LIMIT = "ADAPT_HARD_LIMIT"
    AVERAGE = "ADAPT_AVERAGE"
    TAPERED = "ADAPT_TAPERED"


class Adaptive(PacingStrategy):
    name = "adaptive"
    method = AdaptMethod.HARD_LIMIT
    intensity = 0.0  # adaptive_intensity, -40..40
    dl_diff_target = 0.0  # adaptive_dl_diff_target: -1 aims at one agent waiting
    latest_time_s: float | None = None  # ADAPT_TAPERED: end of the dialing day

    def __init__(self, settings: PacingSettings) -> None:
        super().__init__(settings)
        self.level = 1.0
        self.dropped_pct_limit = settings.abandon_cap * 100.0
        self._ready: collections.deque[int] = collections.deque(maxlen=SAMPLES)
        self._waiting: collections.deque[int] = collections.deque(maxlen=SAMPLES)
        self._agents: collections.deque[int] = collections.deque(maxlen=SAMPLES)
        self._next_level_s: float | None = None
        self._next_drops_s = 0.0
        # "today" counters as last refreshed, and the raw feed they refresh from
        self._calls_today = self._answers_today = self._drops_today = 0
        self._calls_minute = self._drops_minute = 0
        self._dials: collections.deque[tuple[float, bool]] = collections.deque()
        self._feed_calls = self._feed_answers = self._feed_drops = 0

    def observe(self, outcome: Outcome) -> None:
        kind = outcome.kind
        if kind in (OutcomeKind.BUSY, OutcomeKind.FAILED, OutcomeKind.NO_ANSWER,
                    OutcomeKind.ANSWERED_MACHINE):
            self._feed_calls += 1
            self._dials.append((outcome.at_s, False))
        elif kind is OutcomeKind.CONNECTED:
            self._feed_calls += 1
            self._feed_answers += 1
            self._dials.append((outcome.at_s, False))
        elif kind is OutcomeKind.ABANDONED:
            self._feed_calls += 1
            self._feed_answers += 1  # a drop is a human answer too
            self._feed_drops += 1
            self._dials.append((outcome.at_s, True))

    def _refresh_drop_stats(self, now_s: float) -> None:
        self._calls_today = self._feed_calls
        self._answers_today = self._feed_answers
        self._drops_today = self._feed_drops
        while self._dials and self._dials[0][0] < now_s - MINUTE_S:
            self._dials.popleft()
        self._calls_minute = len(self._dials)
        self._drops_minute = sum(1 for _, dropped in self._dials if dropped)

    def _recalculate_level(self, now_s: float) -> None:
        agents_avg = sum(self._agents) / len(self._agents)
        differential = (sum(self._ready) - sum(self._waiting)) / len(self._ready)
        target = differential + self.dl_diff_target
        mul = target / agents_avg if target and agents_avg else 0.0
        pct = mul * 100.0
        intensity_mul = self.intensity / 100.0
        if pct < 0:
            intensity_diff = pct * abs(intensity_mul - 1.0)
        else:
            intensity_diff = pct * (intensity_mul + 1.0)
        level = self.level * (intensity_diff / 100.0 + 1.0)
        level = max(1.0, min(level, self.settings.max_dial_level))
        if (
            self._calls_minute > MIN_CALLS_FOR_MINUTE_RULE
            and 100.0 * self._drops_minute / self._calls_minute > MINUTE_DROP_PCT_LIMIT
        ):
            level /= 2.0
        answers = max(1, self._answers_today)
        if (
            self._calls_today > MIN_CALLS_FOR_DROP_CLAMP
            and 100.0 * self._drops_today / answers > self.dropped_pct_limit
        ):
            if self.method is AdaptMethod.HARD_LIMIT:
                level = 1.0
            elif self.method is AdaptMethod.AVERAGE:
                level /= 2.0
            else:
                left_s = (self.latest_time_s or now_s) - now_s
                level = 1.0 if left_s < 0 else level * min(1.0, left_s / 36000.0)
        self.level = max(1.0, level)

    def calls_to_place(self, snapshot: Snapshot) -> int:
        now = snapshot.now_s
        # agents about to leave (a break or logout within the dial horizon) are not counted
        self._ready.append(snapshot.ready_staying)
        self._waiting.append(len(snapshot.waiting_s))
        self._agents.append(snapshot.staying)
        if now >= self._next_drops_s:
            self._refresh_drop_stats(now)
            self._next_drops_s = now + DROP_STATS_PERIOD_S
        if self._next_level_s is None:
            self._next_level_s = now + LEVEL_PERIOD_S
        elif now >= self._next_level_s:
            if sum(self._agents) > 0:
                self._recalculate_level(now)
            self._next_level_s = now + LEVEL_PERIOD_S
        return dial_level_calls(snapshot, self.level)
