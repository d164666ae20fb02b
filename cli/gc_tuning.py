"""Garbage-collector thresholds for the long-running processes (`serve`, `demo`, `dialer`).

CPython's full (generation 2) collection walks every tracked object. A server with 500
agents holds 100,000-200,000 of them (sessions, calls, pops, journeys), and on this
project's 2-core machine each full pass took 60-200 ms, a few times a minute, during which
nothing else ran: those pauses were the whole tail of answer-to-screen-pop (p99 73-108 ms
and p999 110-190 ms on one node, against a median of 8-10 ms), and they found almost no
garbage ("collected 0"). Young collections every 50,000 allocations instead of 700, and a
full one after 100 middle ones instead of 10, keep reference cycles collected (minutes
apart, not seconds) while a shift runs without the pauses; measured in docs/live-dialer.md.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)  # CPython's defaults: (700, 10, 10)


def tune_gc() -> None:
    """Set the thresholds above for this process (call once at start-up)."""
    gc.set_threshold(*THRESHOLDS)
