"""Log lines that repeat while something is down are written at most once per interval
per key, with the count of those left out: an outage never floods the log."""

from __future__ import annotations

import logging
import time

EVERY_S = 30.0


class LogThrottle:
    def __init__(self, logger: logging.Logger, *, every_s: float = EVERY_S) -> None:
        self.logger = logger
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def log(self, level: int, key: str, msg: str, *args: object,
            exc_info: bool = False) -> None:
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.every_s:
            self._held[key] = self._held.get(key, 0) + 1
            return
        held = self._held.pop(key, 0)
        self._last[key] = now
        if held:
            msg += f" ({held} more like this in the last {self.every_s:.0f} s)"
        self.logger.log(level, msg, *args, exc_info=exc_info)

    def warning(self, key: str, msg: str, *args: object, exc_info: bool = False) -> None:
        self.log(logging.WARNING, key, msg, *args, exc_info=exc_info)

    def clear(self, key: str) -> None:
        """The condition is over: the next occurrence is logged at once."""
        self._last.pop(key, None)
        self._held.pop(key, None)
