"""`telemart import ...` and `telemart customers ...`."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Added by the CRM import work."""
