"""The event loop of the long-running processes (`serve`, `demo`, `dialer`) and of the
benchmark that measures them (`bench connect` and the servers it starts).

uvloop (libuv under asyncio's interface) when it is installed, else asyncio's own loop.
Every hop of a screen pop (the dialer's answer, NATS, the web node, the websocket, the
desktop's ack back) is a socket read, a few callbacks and a socket write in one of these
processes; uvloop does that work in C, so each process is busy for less time per message
and a pop waits less behind the others' (measured in docs/live-dialer.md). Nothing here
depends on it: without it (or with TELEMART_EVENT_LOOP=asyncio, to compare) the same code
runs on asyncio's loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new loop: uvloop's, unless it is missing or TELEMART_EVENT_LOOP=asyncio."""
    if os.environ.get("TELEMART_EVENT_LOOP", "").lower() != "asyncio":
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
