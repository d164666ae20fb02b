from __future__ import annotations

import asyncio

import pytest

from cli import event_loop


def test_uvloop_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvloop  # a test dependency

    monkeypatch.setenv("TELEMART_EVENT_LOOP", "uvloop")
    loop = event_loop.new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_asyncio_loop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEMART_EVENT_LOOP", raising=False)
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
