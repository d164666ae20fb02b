"""`telemart bench connect`'s answer-to-pop: one way, per connected call."""

from __future__ import annotations

import pytest

from cli.bench.connect import answer_to_pop_ms


def test_answer_to_pop_is_the_desktops_arrival_minus_the_answer() -> None:
    answered_s = {1: 100.0, 2: 200.0, 3: 300.0}
    seen_s = {1: 100.004, 2: 200.25, 9: 900.0}  # 9: not a connected call before the cut-off
    got, unseen = answer_to_pop_ms(answered_s, seen_s)
    assert got == pytest.approx([4.0, 250.0])
    assert unseen == 1  # call 3 was connected, its pop reached no desktop


def test_no_calls_no_latencies() -> None:
    assert answer_to_pop_ms({}, {5: 1.0}) == ([], 0)
