"""Abandon rate over a rolling window, US and UK (Ofcom) formulas, by hand."""

from __future__ import annotations

import pytest

from dialer.core.abandon import AbandonWindow, AnswerKind, uk_abandon_rate
from dialer.core.compliance import Rule, cap_dials


def test_rolling_window_matches_hand_count() -> None:
    window = AbandonWindow(window_s=100.0)
    # t=0..9: 10 connected; t=10,11: two abandoned; t=150: 3 connected, 1 abandoned
    for t in range(10):
        window.record(AnswerKind.CONNECTED, at_s=float(t))
    window.record(AnswerKind.ABANDONED, at_s=10.0)
    window.record(AnswerKind.ABANDONED, at_s=11.0)
    assert window.rate(50.0) == pytest.approx(2 / 12)
    for at in (150.0, 151.0, 152.0):
        window.record(AnswerKind.CONNECTED, at_s=at)
    window.record(AnswerKind.ABANDONED, at_s=153.0)
    # at t=160 the window is (60, 160]: only the last four answers remain
    assert window.rate(160.0) == pytest.approx(1 / 4)
    assert window.counts(160.0).live_answers == 4


def test_uk_formula_by_hand() -> None:
    # D=6 abandoned, Ag=100 machines, L=300 connected:
    # D' = 6 - 6*100/400 = 4.5 ; rate = 4.5 / (4.5 + 300) = 0.014778...
    assert uk_abandon_rate(abandoned=6, machines=100, connected=300) == pytest.approx(
        4.5 / 304.5)
    assert uk_abandon_rate(abandoned=0, machines=5, connected=5) == 0.0
    window = AbandonWindow(window_s=86_400.0, uk_mode=True)
    for _ in range(300):
        window.record(AnswerKind.CONNECTED, at_s=1.0)
    for _ in range(100):
        window.record(AnswerKind.MACHINE, at_s=2.0)
    for _ in range(6):
        window.record(AnswerKind.ABANDONED, at_s=3.0)
    assert window.rate(10.0) == pytest.approx(4.5 / 304.5)
    assert window.rate(86_402.5) == 1.0  # only the abandons remain in the window
    assert window.rate(86_410.0) == 0.0  # everything aged out


def test_cap_allows_no_overdial_at_the_cap() -> None:
    allowed, refusal = cap_dials(9, free_lines=2, abandon_rate=0.03, cap=0.03)
    assert allowed == 2
    assert refusal is not None
    assert refusal.rule is Rule.ABANDON_CAP
    assert cap_dials(9, free_lines=2, abandon_rate=0.01, cap=0.03) == (9, None)
