"""Settings: environment, TOML file, secrets never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import load_settings


def test_environment_wins_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "telemart.toml"
    cfg.write_text('[telemart]\nport = 9000\nlog_level = "DEBUG"\n')
    monkeypatch.setenv("TELEMART_PORT", "9100")
    settings = load_settings(cfg)
    assert settings.port == 9100
    assert settings.log_level == "DEBUG"


def test_flat_file_is_accepted(tmp_path: Path) -> None:
    cfg = tmp_path / "flat.toml"
    cfg.write_text("port = 9200\n")
    assert load_settings(cfg).port == 9200


def test_database_url_is_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEMART_DATABASE_URL", "postgresql://u:hunter2@db/telemart")
    settings = load_settings()
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value().endswith("/telemart")
    for shown in (str(settings), repr(settings), str(settings.public_dict())):
        assert "hunter2" not in shown


def test_bad_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEMART_PORT", "not-a-port")
    with pytest.raises(ValueError, match="port"):
        load_settings()
