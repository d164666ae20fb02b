"""The predictive pacer's model: fixed-point column sums agree with the float ones."""

from __future__ import annotations

import math
import random

from dialer.core.pacing.model import (
    MAX_PACKED_ROWS,
    DialModel,
    HandleModel,
    column_sums,
    pack,
    unpack,
)

GRID_S = [2.0 * (k + 1) for k in range(13)]


def close(a: list[float], b: list[float], tol: float) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_packed_rows_sum_to_the_exact_column_sums_but_for_the_last_bit() -> None:
    rng = random.Random(7)
    rows = [[rng.random() for _ in range(26)] + [1.0, 0.0, -1e-17] for _ in range(500)]
    got = unpack(sum(pack(row) for row in rows), 29)
    exact = [math.fsum(col) for col in zip(*rows, strict=True)]
    exact[-1] = 0.0  # a rounding's negative variance counts as 0
    assert close(got, exact, len(rows) * 2.0**-53)
    assert got[-3] == 500.0


def busy_model() -> HandleModel:
    rng = random.Random(3)
    model = HandleModel([g + 2.0 for g in GRID_S])
    for _ in range(200):
        model.talk.add(rng.lognormvariate(4.6, 0.6))
        model.wrap.add(rng.lognormvariate(2.4, 0.5))
    model.refit_if_due()
    return model


def test_busy_sums_are_the_column_sums_of_the_busy_rows() -> None:
    model, rng = busy_model(), random.Random(4)
    on_call = [rng.uniform(0.0, 900.0) for _ in range(120)]
    wrap = [rng.uniform(0.0, 30.0) for _ in range(15)]
    expected = column_sums(model.rows(on_call, wrap))
    assert close(model.busy_sums(on_call, wrap), expected, 1e-12)
    assert close(model.busy_sums(on_call, wrap), expected, 1e-12)  # from the packed cache
    model.talk.add(400.0)  # enough new samples for a refit: both caches start again
    for _ in range(60):
        model.talk.add(30.0)
    model.refit_if_due()
    assert close(model.busy_sums(on_call, wrap), column_sums(model.rows(on_call, wrap)), 1e-12)


def flight_model() -> DialModel:
    rng = random.Random(5)
    model = DialModel(horizon_bins=29, grid_s=GRID_S, memory=1500.0)
    for _ in range(2000):
        model.add(rng.choice((0, 1, 2, 2)), rng.uniform(0.0, 28.0))
    model.refit_if_due()
    return model


def test_flight_sums_are_the_column_sums_of_the_flight_rows() -> None:
    model, rng = flight_model(), random.Random(6)
    ringing = sorted((float(rng.randrange(0, 40)) for _ in range(90)), reverse=True)
    assert close(model.flight_sums(ringing), column_sums(model.flight_rows(ringing)), 1e-12)


def test_more_rows_than_the_lanes_hold_are_summed_as_floats() -> None:
    model = flight_model()
    ringing = [3.0] * (MAX_PACKED_ROWS + 1)
    assert model.flight_sums(ringing) == column_sums(model.flight_rows(ringing))
