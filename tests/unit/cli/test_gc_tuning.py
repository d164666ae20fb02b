from __future__ import annotations

import argparse
import gc
from collections.abc import Iterator

import pytest

from cli.gc_tuning import THRESHOLDS


@pytest.fixture
def thresholds_restored() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


class _Built(Exception):
    pass


def test_serve_sets_the_thresholds_before_it_builds_the_app(
    thresholds_restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cli.serve

    gc.set_threshold(700, 10, 10)
    seen: list[tuple[int, int, int]] = []

    def create_app(*_: object, **__: object) -> None:
        seen.append(gc.get_threshold())
        raise _Built

    monkeypatch.setattr(cli.serve, "create_app", create_app)
    monkeypatch.setattr(cli.serve, "check_bus", lambda _: None)
    monkeypatch.setattr(cli.serve, "check_telephony", lambda _: None)
    args = argparse.Namespace(host=None, port=None, no_background=True, config=None)
    with pytest.raises(_Built):
        cli.serve.cmd_serve(args)
    assert seen == [THRESHOLDS]
