from __future__ import annotations

from dialer.pacing.base import PacingStrategy, Snapshot


class Predictive(PacingStrategy):
    name = "predictive"

    def calls_to_place(self, snapshot: Snapshot) -> int:
        return snapshot.free_lines
