"""`predictive`: our model-based pacer.

Each tick it forecasts, on a grid of horizon points t a few seconds ahead,
  * agents free by t + connect window: the ready ones, plus for each busy agent the
    probability its talk (+ wrap) or wrap ends by then given how long it has lasted;
  * live answers by t: for each call in flight, the probability it becomes a live answer
    by t given that it has rung r seconds without resolving; plus any live answer
    already waiting.
Both are sums of Bernoulli variables; their difference is taken as normal. Dials are added
one at a time while the *marginal* dial, if it turns into a live answer, would find no
agent with probability at most tau (averaged over when it would be answered). tau is moved
slowly (an integral controller) so the measured abandon rate settles at a set point below
the cap; it tightens as the measured rate over the compliance window approaches the cap,
falls to progressive dialling at the cap, and shrinks for small teams whose variance is
high. Until the model has data it dials progressively.
"""

from __future__ import annotations

import dataclasses
import math

from dialer.core.pacing.base import Outcome, OutcomeKind, PacingSettings, PacingStrategy, Snapshot
from dialer.core.pacing.model import (
    LIVE,
    MACHINE,
    OTHER,
    DialModel,
    HandleModel,
    Row,
    column_sums,
)
from dialer.core.search import first_true

HORIZON_STEP_S = 2.0
SET_POINT_OF_CAP = 0.7  # aim for 70 % of the cap (2.1 % for a 3 % cap)
START_TAU_OF_CAP = 1.0
TAU_BOUNDS = (0.002, 0.3)
CONTROL_PERIOD_S = 60.0
CONTROL_GAIN = 0.12  # per period, on the relative error of the recent rate
RECENT_ANSWERS = 400.0  # memory of the recent abandon rate, in live answers
MIN_ANSWERS_TO_CONTROL = 50
SMALL_TEAM_AGENTS = 8
TIGHTEN_FROM_OF_CAP = 0.6  # measured rate where tau starts to shrink
PROGRESSIVE_AT_OF_CAP = 0.85  # measured rate where only progressive dialling is left
MIN_ANSWERS_FOR_CAP_RULE = 20
OUTCOME_MEMORY = 1500.0  # dial outcomes: forgetting horizon for the contact mix
WARY_Z = 1.5  # plan on a contact rate this many standard errors above the estimate

_CLASS_OF = {
    OutcomeKind.ANSWERED_LIVE: LIVE,
    OutcomeKind.ANSWERED_MACHINE: MACHINE,
    OutcomeKind.BUSY: OTHER,
    OutcomeKind.FAILED: OTHER,
    OutcomeKind.NO_ANSWER: OTHER,
}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class _NewDialTerms:
    """A new dial's share of the risk terms, per grid point: (w / 2, q, -q, q (1 - q),
    2 rel_var q^2), with w the weight of the point and q its live-answer probability leaned
    by the contact rate's error; worked out from one `DialModel.new_dial`."""

    new_dial: list[float]
    rel_var: float  # the contact rate estimate's relative variance
    lean_extra: float  # the lean on answers, minus 1
    points: list[tuple[float, float, float, float, float]]


class Predictive(PacingStrategy):
    name = "predictive"

    def __init__(self, settings: PacingSettings) -> None:
        super().__init__(settings)
        horizon_s = settings.max_ring_s + settings.amd_s
        self.grid_s = [
            HORIZON_STEP_S * (k + 1) for k in range(math.ceil(settings.max_ring_s / HORIZON_STEP_S))
        ]
        window = settings.connect_window_s
        self.dials = DialModel(
            horizon_bins=math.ceil(horizon_s) + 1, grid_s=self.grid_s, memory=OUTCOME_MEMORY
        )
        self.handle = HandleModel([g + window for g in self.grid_s])
        cap = settings.abandon_cap
        self.set_point = settings.target_abandon or SET_POINT_OF_CAP * cap
        self.tau = START_TAU_OF_CAP * cap
        self.recent_rate = self.set_point
        self._recent_weight = 0.0
        self._answers_seen = 0
        self._next_control_s: float | None = None
        self._new_terms: _NewDialTerms | None = None

    # -- learning -------------------------------------------------------------------------
    def observe(self, outcome: Outcome) -> None:
        kind = outcome.kind
        cls = _CLASS_OF.get(kind)
        if cls is not None:
            self.dials.add(cls, outcome.duration_s)
        elif kind is OutcomeKind.TALK_ENDED:
            self.handle.talk.add(outcome.duration_s)
        elif kind is OutcomeKind.WRAP_ENDED:
            self.handle.wrap.add(outcome.duration_s)
        elif kind in (OutcomeKind.CONNECTED, OutcomeKind.ABANDONED):
            # bias-corrected EWMA of the abandon indicator over recent live answers
            self._answers_seen += 1
            alpha = max(1.0 / RECENT_ANSWERS, 1.0 / self._answers_seen)
            hit = 1.0 if kind is OutcomeKind.ABANDONED else 0.0
            self.recent_rate += alpha * (hit - self.recent_rate)

    def _control(self, now_s: float) -> None:
        if self._next_control_s is None:
            self._next_control_s = now_s + CONTROL_PERIOD_S
        if now_s < self._next_control_s:
            return
        self._next_control_s = now_s + CONTROL_PERIOD_S
        if self._answers_seen < MIN_ANSWERS_TO_CONTROL:
            return
        error = (self.set_point - self.recent_rate) / self.set_point
        error = max(-2.0, min(1.0, error))
        low, high = TAU_BOUNDS
        self.tau = max(low, min(high, self.tau * math.exp(CONTROL_GAIN * error)))

    def effective_tau(self, snapshot: Snapshot) -> float:
        """tau after the cap and team-size fallbacks; 0 means progressive only."""
        tau = self.tau
        cap = self.settings.abandon_cap
        stats = snapshot.stats
        if stats.live_answers >= MIN_ANSWERS_FOR_CAP_RULE and cap > 0:
            closeness = stats.abandon_rate / cap
            if closeness >= PROGRESSIVE_AT_OF_CAP:
                return 0.0
            if closeness > TIGHTEN_FROM_OF_CAP:
                span = PROGRESSIVE_AT_OF_CAP - TIGHTEN_FROM_OF_CAP
                tau *= (PROGRESSIVE_AT_OF_CAP - closeness) / span
        agents = snapshot.staying - snapshot.paused
        if agents < SMALL_TEAM_AGENTS:
            tau *= (agents / SMALL_TEAM_AGENTS) ** 2
        return tau

    # -- the floor's schedule -------------------------------------------------------------
    def _present(self, snapshot: Snapshot) -> list[float]:
        """Agents free now and there at each grid point: ready ones that have not left by
        then, and paused ones back from a break by then (+ the connect window)."""
        grid, window = self.grid_s, self.settings.connect_window_s
        if not (snapshot.ready_leave_s or snapshot.paused_return_s):
            return [float(len(snapshot.ready_s))] * len(grid)
        ready_leave = snapshot.ready_leave_s or (math.inf,) * len(snapshot.ready_s)
        back = snapshot.paused_return_s
        return [
            float(
                sum(1 for leave in ready_leave if leave > g)
                + sum(1 for r in back if r <= g + window)
            )
            for g in grid
        ]

    def _cut_at_departures(self, snapshot: Snapshot, rows: list[Row]) -> list[Row]:
        """A busy agent scheduled to leave is free for an answer at t only if it frees by
        t + window, before it leaves, and t comes before it leaves."""
        leaves = snapshot.on_call_leave_s or (math.inf,) * len(snapshot.on_call_s)
        leaves += snapshot.wrap_up_leave_s or (math.inf,) * len(snapshot.wrap_up_s)
        grid, window = self.grid_s, self.settings.connect_window_s
        last = grid[-1]
        cut = []
        for row, leave in zip(rows, leaves, strict=True):
            if leave > last + window:
                cut.append(row)
                continue
            # the latest grid point whose t + window is still before the departure
            j = max((k for k, g in enumerate(grid) if g + window <= leave), default=-1)
            probs = [
                0.0 if g >= leave else (row[min(k, j)] if j >= 0 else 0.0)
                for k, g in enumerate(grid)
            ]
            cut.append((*probs, *(p * (1.0 - p) for p in probs)))
        return cut

    # -- deciding -------------------------------------------------------------------------
    def _new_dial_terms(self) -> _NewDialTerms | None:
        """What a new dial brings at each grid point; None while no dial can be a live
        answer within the grid. It changes only when the dial model refits (every 50
        outcomes, ~10 ticks of a 100-agent floor), so it is kept between ticks."""
        new = self.dials.new_dial
        kept = self._new_terms
        if kept is not None and kept.new_dial is new:
            return kept
        if not new or new[-1] <= 0.0:
            self._new_terms = None
            return None
        # when a new dial's live answer would come, over the grid
        weights = [new[0]] + [new[k] - new[k - 1] for k in range(1, len(new))]
        total = sum(weights)
        weights = [w / total for w in weights]
        # The contact rate is an estimate, and its error moves the answers of every call in
        # flight and every new dial the same way. So plan on a rate WARY_Z standard errors
        # above it, and add (answers expected)^2 x its relative variance to the spread. A
        # young model (the first minutes: a few hundred outcomes) then dials a smaller first
        # batch: one sized on a rate that happened to come out low used to put 10 answers
        # out of 80 dials on no agent, and the cap rule then held the rest of the hour
        # progressive. After ~1,000 outcomes both terms are a few per cent.
        rel_var = self.dials.p_live_rel_var
        lean = 1.0 + WARY_Z * math.sqrt(rel_var)
        two_rel_var = 2.0 * rel_var
        points = []
        for w, q in zip(weights, [q * lean for q in new], strict=True):
            points.append((0.5 * w, q, -q, q * (1.0 - q), two_rel_var * q * q))
        self._new_terms = _NewDialTerms(
            new_dial=new, rel_var=rel_var, lean_extra=lean - 1.0, points=points
        )
        return self._new_terms

    def calls_to_place(self, snapshot: Snapshot) -> int:
        self._control(snapshot.now_s)
        floor = snapshot.free_lines
        if not (self.dials.ready and self.handle.ready):
            return floor
        tau = self.effective_tau(snapshot)
        if tau <= 0.0:
            return floor
        self.dials.refit_if_due()
        self.handle.refit_if_due()
        new = self._new_dial_terms()
        if new is None:
            return floor
        k_count = len(self.grid_s)
        no_spread = [0.0] * k_count
        # agents free by t + window: mean and variance at each grid point
        supply = self._present(snapshot)
        supply_var = no_spread
        sums: list[float] | None = None
        if snapshot.on_call_leave_s or snapshot.wrap_up_leave_s:
            rows = self.handle.rows(snapshot.on_call_s, snapshot.wrap_up_s)
            if rows:
                sums = column_sums(self._cut_at_departures(snapshot, rows))
        elif snapshot.on_call_s or snapshot.wrap_up_s:
            sums = self.handle.busy_sums(snapshot.on_call_s, snapshot.wrap_up_s)
        if sums is not None:
            supply = [s + m for s, m in zip(supply, sums[:k_count], strict=True)]
            supply_var = sums[k_count:]
        # live answers by t from calls already placed (+ those waiting)
        waiting = float(len(snapshot.waiting_s))
        flight, demand_var = no_spread, no_spread
        if snapshot.ringing_s:
            sums = self.dials.flight_sums(snapshot.ringing_s)
            flight, demand_var = sums[:k_count], sums[k_count:]
        lines_left = int(self.settings.max_dial_level * snapshot.staying) - len(snapshot.ringing_s)
        # Per grid point the (n+1)-th dial's risk is w * P(answers ahead >= agents free),
        # normal with mean b + n q and variance bv + n q (1 - q) + rel_var (f + n q)^2 (and
        # 1/4 for the continuity correction), where b = answers ahead - agents free with
        # the flight's answers leaned like a new dial's (see _new_dial_terms). Kept as
        # erfc((c0 + n c1) / sqrt(v0 + n (v1 + n v2))) so that each n costs a few
        # multiplications per point; one pass over the grid builds them.
        rel_var, lean_extra = new.rel_var, new.lean_extra
        two_rel_var = 2.0 * rel_var
        terms = [
            (
                half_w,
                -0.5 - ((waiting + f) - s + f * lean_extra),
                minus_q,
                2.0 * (dv + sv + 0.25 + rel_var * f * f),
                2.0 * (q_var + two_rel_var * f * q),
                v2,
            )
            for (half_w, q, minus_q, q_var, v2), s, sv, f, dv in zip(
                new.points, supply, supply_var, flight, demand_var, strict=True
            )
        ]
        erfc, sqrt = math.erfc, math.sqrt

        def lost(n: int) -> bool:
            """Would the (n+1)-th dial find no agent with probability over tau? Every term
            is >= 0, so the sum may stop as soon as it passes tau."""
            risk = 0.0
            for w, c0, c1, v0, v1, v2 in terms:
                risk += w * erfc((c0 + n * c1) / sqrt(v0 + n * (v1 + n * v2)))
                if risk > tau:
                    return True
            return False

        # The first n whose dial would be lost (lines_left if none). The risk grows with n
        # (more answers ahead of the same agents), so a doubling-then-halving search finds
        # it in about 2 log2(n) risk sums instead of n.
        return max(first_true(lost, lines_left), floor)
