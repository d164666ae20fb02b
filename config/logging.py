"""Logging set-up for commands and the server."""

from __future__ import annotations

import logging


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # aiohttp's access log is noisy at INFO under load.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # APScheduler logs every run of the 5-second relay at INFO; failures still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
