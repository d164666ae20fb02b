"""Logging set-up for commands and the server.

A fault that repeats (the database gone, a peer refusing) must not flood the log: each
distinct warning or error (logger, message template, exception type) is written once per
`REPEAT_INTERVAL_S`; the next one written after that says how many were held back.
"""

from __future__ import annotations

import logging
import time

REPEAT_INTERVAL_S = 30.0
MAX_KEYS = 10_000  # distinct messages remembered


class RepeatFilter(logging.Filter):
    """Pass the first of each distinct WARNING+ record per interval; count the rest."""

    def __init__(self, interval_s: float = REPEAT_INTERVAL_S) -> None:
        super().__init__()
        self.interval_s = interval_s
        self._seen: dict[tuple[object, ...], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        exc_type = record.exc_info[0] if record.exc_info else None
        key = (record.name, record.levelno, record.msg, exc_type)
        now = time.monotonic()
        last = self._seen.get(key)
        if last is not None and now - last[0] < self.interval_s:
            self._seen[key] = (last[0], last[1] + 1)
            return False
        if len(self._seen) >= MAX_KEYS:
            self._seen.clear()
        self._seen[key] = (now, 0)
        if last is not None and last[1]:
            held = f" [{last[1]} more like this in the last {self.interval_s:.0f} s]"
            record.msg = f"{record.msg}{held}"
        return True


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RepeatFilter) for f in handler.filters):
            handler.addFilter(RepeatFilter())
    # aiohttp's access log is noisy at INFO under load.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # APScheduler logs every run of the 5-second relay at INFO; failures still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
