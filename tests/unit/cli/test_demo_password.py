"""The demo keeps its logins across runs: the password chosen on the first run is kept
beside the demo's data and used again."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cli.demo import PASSWORD_FILE, demo_password


def test_first_run_chooses_and_keeps_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEMART_DEMO_PASSWORD", raising=False)
    home = tmp_path / ".telemart"
    first, where = demo_password(home)
    assert len(first) >= 12
    assert where == str(home / PASSWORD_FILE)
    assert stat.S_IMODE((home / PASSWORD_FILE).stat().st_mode) == 0o600
    again, _ = demo_password(home)
    assert again == first


def test_the_environment_wins_and_is_not_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEMART_DEMO_PASSWORD", "chosen-by-me")
    assert demo_password(tmp_path) == ("chosen-by-me", "TELEMART_DEMO_PASSWORD")
    assert not (tmp_path / PASSWORD_FILE).exists()
