"""Online estimates for `predictive`: how dials resolve and how long agents stay busy.

Stdlib only. Dial outcomes are learnt as three classes (live, machine, other) with
exponentially forgotten counts, so a drifting contact rate is followed, and an empirical
resolution-time histogram per class on a 1 s grid. Talk and wrap times are fitted as
lognormals from their log-moments; `row` tables give, for an agent busy for e seconds,
the probability of being free by each horizon point, computed lazily and cached per second.

A row is one flat tuple: the K probabilities, then their K Bernoulli variances, so the
strategy sums a whole table column-wise in one pass (`column_sums`). The tables a tick
sums whole (busy agents, calls in flight) are also kept packed in fixed point (`pack`), so
that their column sums cost one integer addition per row (`HandleModel.busy_sums`,
`DialModel.flight_sums`).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable, Sequence

Row = tuple[float, ...]  # K probabilities, then their K variances p (1 - p)

SQRT2 = math.sqrt(2.0)
MIN_SIGMA = 0.05  # a fixed time still gets a little spread, so survival stays smooth
MIN_DURATION_S = 0.1
W_QUARTILE_Z = 0.6745  # wrap time folded in at its two quartiles


def lognormal_cdf(x: float, mu: float, sigma: float) -> float:
    if x <= 0.0:
        return 0.0
    return 0.5 * math.erfc(-(math.log(x) - mu) / (sigma * SQRT2))


class LogMoments:
    """Running lognormal fit of positive durations."""

    __slots__ = ("n", "sum_log", "sum_log2")

    def __init__(self) -> None:
        self.n = 0
        self.sum_log = 0.0
        self.sum_log2 = 0.0

    def add(self, duration_s: float) -> None:
        log_x = math.log(max(duration_s, MIN_DURATION_S))
        self.n += 1
        self.sum_log += log_x
        self.sum_log2 += log_x * log_x

    def params(self) -> tuple[float, float]:
        mu = self.sum_log / self.n
        var = max(0.0, self.sum_log2 / self.n - mu * mu)
        return mu, max(MIN_SIGMA, math.sqrt(var))


class HandleModel:
    """When will a busy agent be free? Talk and wrap fitted online; rows per elapsed second."""

    def __init__(self, grid_s: Sequence[float]) -> None:
        self.grid_s = tuple(grid_s)
        self.talk = LogMoments()
        self.wrap = LogMoments()
        self._fitted_at = (0, 0)
        self._talk_p = (0.0, 1.0)
        self._wrap_p = (0.0, 1.0)
        self._wrap_quartiles = (0.0, 0.0)
        self._on_call_rows: dict[int, Row] = {}
        self._wrap_rows: dict[int, Row] = {}
        self._on_call_packed = _PackedRows(self.on_call_row)  # the same rows, packed
        self._wrap_packed = _PackedRows(self.wrap_row)

    @property
    def ready(self) -> bool:
        return self.talk.n >= 10 and self.wrap.n >= 10

    def refit_if_due(self) -> None:
        n_talk, n_wrap = self.talk.n, self.wrap.n
        last_talk, last_wrap = self._fitted_at
        due = max(25, last_talk // 4)  # often at first, then every quarter more samples
        if self._fitted_at != (0, 0) and n_talk - last_talk < due and n_wrap - last_wrap < due:
            return
        self._fitted_at = (n_talk, n_wrap)
        self._talk_p = self.talk.params()
        self._wrap_p = self.wrap.params()
        mu_w, sigma_w = self._wrap_p
        self._wrap_quartiles = (
            math.exp(mu_w - W_QUARTILE_Z * sigma_w),
            math.exp(mu_w + W_QUARTILE_Z * sigma_w),
        )
        self._on_call_rows.clear()
        self._wrap_rows.clear()
        self._on_call_packed.clear()
        self._wrap_packed.clear()

    @staticmethod
    def _conditional(e: float, xs: Sequence[float], mu: float, sigma: float) -> list[float]:
        """P(X <= e + x | X > e) for each x."""
        survive = 1.0 - lognormal_cdf(e, mu, sigma)
        if survive < 1e-9:
            return [1.0 for _ in xs]  # far in the tail: about to finish, as far as we know
        base = 1.0 - survive
        # lognormal_cdf inlined (e + x > 0 here; the same arithmetic): a refit empties the
        # row caches, and every second of talk seen afterwards costs ~30 of these
        erfc, log, scale = math.erfc, math.log, sigma * SQRT2
        return [
            max(0.0, (0.5 * erfc(-(log(e + x) - mu) / scale) - base) / survive) if x > 0 else 0.0
            for x in xs
        ]

    def on_call_row(self, elapsed_s: float) -> Row:
        """P(free by each grid point) and its Bernoulli variance, talking for elapsed_s."""
        e = int(elapsed_s)
        row = self._on_call_rows.get(e)
        if row is None:
            mu, sigma = self._talk_p
            w1, w2 = self._wrap_quartiles
            lo = self._conditional(e, [g - w1 for g in self.grid_s], mu, sigma)
            hi = self._conditional(e, [g - w2 for g in self.grid_s], mu, sigma)
            probs = [(a + b) / 2.0 for a, b in zip(lo, hi, strict=True)]
            row = (*probs, *(p * (1.0 - p) for p in probs))
            self._on_call_rows[e] = row
        return row

    def wrap_row(self, elapsed_s: float) -> Row:
        e = int(elapsed_s)
        row = self._wrap_rows.get(e)
        if row is None:
            mu, sigma = self._wrap_p
            probs = self._conditional(e, self.grid_s, mu, sigma)
            row = (*probs, *(p * (1.0 - p) for p in probs))
            self._wrap_rows[e] = row
        return row

    def rows(self, on_call_s: Iterable[float], wrap_up_s: Iterable[float]) -> list[Row]:
        """One row per busy agent: the talking ones, then those in wrap-up."""
        get, make = self._on_call_rows.get, self.on_call_row
        rows = [get(e) or make(e) for e in map(int, on_call_s)]
        get, make = self._wrap_rows.get, self.wrap_row
        rows += [get(e) or make(e) for e in map(int, wrap_up_s)]
        return rows

    def busy_sums(self, on_call_s: Sequence[float], wrap_up_s: Sequence[float]) -> list[float]:
        """The column sums of `rows(on_call_s, wrap_up_s)`, in fixed point (`pack`)."""
        if len(on_call_s) + len(wrap_up_s) > MAX_PACKED_ROWS:
            return column_sums(self.rows(on_call_s, wrap_up_s))
        # summed in C: a Python loop over ~95 agents cost more than the additions; whole
        # seconds by math.trunc, which is int() of a float without calling the int type
        trunc = math.trunc
        total = sum(map(self._on_call_packed.__getitem__, map(trunc, on_call_s)))
        total += sum(map(self._wrap_packed.__getitem__, map(trunc, wrap_up_s)))
        return unpack(total, 2 * len(self.grid_s))


class _PackedRows(dict[int, int]):
    """Packed rows by whole seconds elapsed, each packed on first use (`pack`)."""

    def __init__(self, row: Callable[[int], Row]) -> None:
        super().__init__()
        self.row = row

    def __missing__(self, elapsed_s: int) -> int:
        packed = self[elapsed_s] = pack(self.row(elapsed_s))
        return packed


def column_sums(rows: list[Row]) -> list[float]:
    """Each column's sum (rows summed in order)."""
    return list(map(sum, zip(*rows, strict=True)))


# Every tick sums a row per busy agent and per call in flight (~180 rows of 26 values on a
# 100-agent floor): the pacer's largest cost. The rows change every tick (they depend on the
# seconds elapsed), so the sums cannot be kept up to date incrementally; but packed as 26
# fixed-point lanes of one Python integer, a row is summed with one integer addition instead
# of 26 interpreter steps. A lane holds value x 2**53 (exact for values in [0.5, 1], within
# 2**-53 below); the values are probabilities and variances in [0, 1], so up to 2**11 - 1
# rows sum without a lane carrying into the next. The sums are exact but for that last bit,
# and do not depend on the order of the rows.
FIXED_SCALE = 2.0**53
LANE_BITS = 64
MAX_PACKED_ROWS = 2 ** (LANE_BITS - 53) - 1


def pack(row: Sequence[float]) -> int:
    """A row of values in [0, 1] as fixed-point lanes of one integer (a rounding's -1e-17
    variance counts as 0)."""
    trunc = math.trunc  # int() of a float, at about half the cost of calling int
    lanes = [trunc(x * FIXED_SCALE) if x > 0.0 else 0 for x in row]
    return int.from_bytes(struct.pack(f"<{len(lanes)}Q", *lanes), "little")


def unpack(total: int, width: int) -> list[float]:
    """The `width` column sums held by a sum of at most MAX_PACKED_ROWS packed rows."""
    lanes = struct.unpack(f"<{width}Q", total.to_bytes(width * LANE_BITS // 8, "little"))
    return [lane / FIXED_SCALE for lane in lanes]


LIVE, MACHINE, OTHER = 0, 1, 2


class DialModel:
    """How dials resolve: class probabilities (forgetting) and resolution-time histograms."""

    def __init__(self, *, horizon_bins: int, grid_s: Sequence[float], memory: float) -> None:
        self.bins = horizon_bins  # resolution times are clipped to this many seconds
        self.grid_s = tuple(grid_s)
        self._steps = [int(g) for g in self.grid_s]  # whole seconds to each grid point
        self.decay = 1.0 - 1.0 / memory
        self.class_weight = [0.0, 0.0, 0.0]
        self.hist = [[0.0] * (horizon_bins + 1) for _ in range(3)]
        self.seen = 0
        self.live_seen = 0
        self._since_fit = 0
        self.in_flight_rows: list[Row] = []  # by whole seconds rung so far, 0..bins
        self._in_flight_packed: list[int] = []  # the same rows, packed (`pack`)
        self.new_dial: list[float] = []  # P(a new dial is a live answer by each grid point)
        self.p_live = 0.0
        # relative variance of the p_live estimate: binomial, over the (forgotten) count of
        # outcomes behind it; large while the model is young, small after a few hundred
        self.p_live_rel_var = 0.0

    @property
    def ready(self) -> bool:
        return self.seen >= 30 and self.live_seen >= 5

    def add(self, cls: int, resolved_after_s: float) -> None:
        w, decay = self.class_weight, self.decay
        w[LIVE] *= decay  # unrolled: ~5 outcomes a tick
        w[MACHINE] *= decay
        w[OTHER] *= decay
        w[cls] += 1.0
        self.hist[cls][min(self.bins, math.trunc(resolved_after_s))] += 1.0
        self.seen += 1
        self.live_seen += cls == LIVE
        self._since_fit += 1

    def refit_if_due(self) -> None:
        if self.in_flight_rows and self._since_fit < 50:
            return
        self._since_fit = 0
        total = sum(self.class_weight)
        probs = [w / total for w in self.class_weight]
        self.p_live = probs[LIVE]
        p = self.p_live
        self.p_live_rel_var = (1.0 - p) / (p * total) if p > 0.0 else 0.0
        # survival of each class's resolution time at whole seconds 0..bins
        survival = []
        for cls in range(3):
            counts = self.hist[cls]
            n = sum(counts) or 1.0
            left, surv = n, []
            for c in counts:
                surv.append(left / n)  # resolved at or after this second
                left -= c
            surv.append(0.0)
            survival.append(surv)
        # P(live by t | rung r) = p_live (S(r) - S(r + t)) / P(unresolved at r); S is 0
        # from bins + 1 on, so padding it with zeros spares a clip per grid point (this
        # runs every 50 outcomes: about every 10 ticks of a 100-agent floor)
        s_live = survival[LIVE] + [0.0] * max(self._steps, default=0)
        s_machine, s_other = survival[MACHINE], survival[OTHER]
        p_live, p_machine, p_other = probs
        steps = self._steps
        self.new_dial = [p_live * (s_live[0] - s_live[j]) for j in steps]
        rows: list[Row] = []
        for r in range(self.bins + 1):
            alive = p_live * s_live[r] + p_machine * s_machine[r] + p_other * s_other[r]
            if alive <= 1e-12:
                row = [0.0 for _ in steps]
            else:
                s_r = s_live[r]
                row = [p_live * (s_r - s_live[r + j]) / alive for j in steps]
            rows.append((*row, *[q * (1.0 - q) for q in row]))
        self.in_flight_rows = rows
        self._in_flight_packed = [pack(row) for row in rows]

    def flight_rows(self, ringing_s: Iterable[float]) -> list[Row]:
        """One row per call in flight, by how long it has rung."""
        table, last = self.in_flight_rows, self.bins
        return [table[r] if r <= last else table[last] for r in map(int, ringing_s)]

    def flight_sums(self, ringing_s: Sequence[float]) -> list[float]:
        """The column sums of `flight_rows(ringing_s)`, in fixed point (`pack`)."""
        if len(ringing_s) > MAX_PACKED_ROWS:
            return column_sums(self.flight_rows(ringing_s))
        table = self._in_flight_packed
        # summed in C without a clip per call; a call rings past the table only when the
        # carrier's ring timeout is longer than the campaign's
        try:
            total = sum(map(table.__getitem__, map(math.trunc, ringing_s)))
        except IndexError:
            last = self.bins
            total = sum([table[r] if r <= last else table[last] for r in map(int, ringing_s)])
        return unpack(total, 2 * len(self.grid_s))
