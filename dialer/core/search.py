"""One search shared by the pacer and the staffing model: the first whole number for
which a monotone test holds."""

from __future__ import annotations

from collections.abc import Callable


def first_true(test: Callable[[int], bool], end: int, *, guess: int = 1) -> int:
    """The first n in [0, end) for which `test` holds, or `end` if none; `test` must be
    monotone (False, ..., False, True, ...). Doubles from `guess`, then halves, so it asks
    about 2 log2(n) questions instead of n, and never asks about n >= end."""
    if end <= 0 or test(0):
        return 0
    low, high = 0, max(1, guess)  # test(low) is False; test(high) is True, or high >= end
    while high < end and not test(high):
        low, high = high, 2 * high
    high = min(high, end)
    while high - low > 1:
        mid = (low + high) // 2
        if test(mid):
            high = mid
        else:
            low = mid
    return high
