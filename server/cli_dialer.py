"""Commands: filled in by the work that owns them."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Adds this module's commands to `telemart`."""
