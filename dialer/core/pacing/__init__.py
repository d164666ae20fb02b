"""Pacing strategies: one interface (base), built-ins by name, user ones by module:Class."""

from dialer.core.pacing.base import (
    Outcome,
    OutcomeKind,
    OutcomeStats,
    PacingSettings,
    PacingStrategy,
    Snapshot,
)

__all__ = [
    "Outcome",
    "OutcomeKind",
    "OutcomeStats",
    "PacingSettings",
    "PacingStrategy",
    "Snapshot",
]
