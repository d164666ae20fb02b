"""`telemart bench import`."""

from __future__ import annotations

from typing import Any


def register(bench_sub: Any) -> None:
    """Added by the CRM import work."""
