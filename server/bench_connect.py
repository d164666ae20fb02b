"""Benchmark: filled in by the work that owns it."""

from __future__ import annotations

from typing import Any


def register(bench_sub: Any) -> None:
    """Adds this benchmark to `telemart bench`."""
