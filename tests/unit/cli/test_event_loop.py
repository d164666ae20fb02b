from __future__ import annotations

import asyncio

import pytest

from cli import event_loop


def test_uvloop_when_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    loop = event_loop.new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_asyncio_loop_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEMART_EVENT_LOOP", "asyncio")
    loop = event_loop.new_event_loop()
    try:
        assert isinstance(loop, asyncio.BaseEventLoop)  # asyncio's own, not uvloop's
    finally:
        loop.close()


def test_run_returns_the_coroutine_result() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert event_loop.run(answer()) == 42
