"""The event loop of the long-running processes (`serve`, `demo`, `dialer`) and of the
benchmark that measures them (`bench connect` and the servers it starts).

asyncio's own loop, or uvloop's (libuv under asyncio's interface) with
TELEMART_EVENT_LOOP=uvloop when it is installed. uvloop costs each process less CPU per
message (a websocket round trip on loopback: 100-120 µs against 300 µs for a pop), but timed
on `bench connect` it did not move the screen pop's tail (docs/live-dialer.md): so it is not
the default, and asyncio's loop is what the tests and the benchmarks' figures run on.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new loop: asyncio's, or uvloop's with TELEMART_EVENT_LOOP=uvloop (if installed)."""
    if os.environ.get("TELEMART_EVENT_LOOP", "").lower() == "uvloop":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the loop above."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)
