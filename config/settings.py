"""Settings from TELEMART_* environment variables and an optional TOML file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path(".telemart")


class Settings(BaseSettings):
    """Everything Telemart reads from its environment.

    Secrets are `SecretStr`, so printing the settings never shows them.
    """

    model_config = SettingsConfigDict(env_prefix="TELEMART_", extra="ignore")

    home: Path = Field(default=DEFAULT_HOME, description="state folder: embedded database, reports")
    database_url: SecretStr | None = Field(
        default=None, description="PostgreSQL URL; unset = embedded server under HOME/pg"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    log_level: str = "INFO"
    pool_min_size: int = Field(default=2, ge=1)
    pool_max_size: int = Field(default=20, ge=1)
    session_hours: float = Field(default=12.0, gt=0, description="page session cookie lifetime")
    session_idle_minutes: float = Field(
        default=60.0, gt=0, description="a page session unused this long is logged out"
    )
    token_hours: float = Field(default=24.0, gt=0, description="API token lifetime")
    cookie_secure: bool | None = Field(
        default=None,
        description="Secure flag on the session cookie; unset: on unless the page is served "
        "from localhost (set false to serve plain HTTP on a network, which you should not)",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="origins (scheme://host:port) besides the server's own host that may "
        "send cookie-authenticated writes, e.g. the public name behind a proxy",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="bearer token Prometheus sends for /metrics"
    )
    metrics_listen: str | None = Field(
        default=None,
        description="host:port serving /metrics alone, without login (then not on the main port)",
    )
    telephony: str = Field(default="sim", description="telephony port: sim | ari")
    # telephony = "ari": Asterisk's REST interface (docs/telephony.md)
    ari_url: str = Field(default="http://127.0.0.1:8088/ari", description="ARI base URL")
    ari_user: str = "telemart"
    ari_password: SecretStr = Field(default=SecretStr(""), description="ari.conf password")
    ari_app: str = Field(default="telemart", description="Stasis app: one per dialer process")
    ari_dial_template: str = Field(
        default="PJSIP/{number}@carrier", description="trunk dial string: {number} {national}"
    )
    ari_agent_endpoint: str = Field(
        default="PJSIP/{extension}", description="agent phone: {extension} {agent_id}"
    )
    ari_caller_id: str | None = Field(
        default=None, description="registered caller number when a campaign sets none"
    )
    ari_trunk_lines: int = Field(default=30, ge=1, description="outbound calls up at once")
    ari_amd_context: str = "telemart-amd"
    ari_sounds: str = Field(default="sound:telemart/{prompt}", description="prompt media URI")
    ari_speech_url: str | None = Field(
        default=None, pattern=r"^https?://[^/?#]+/?$",
        description="ARS words by text-to-speech: this process as Asterisk reaches it, "
        "e.g. http://10.0.0.5:8089 (unset: recordings only)")
    ari_speech_listen: str | None = Field(
        default=None, description="host:port the speech server binds (default: the URL's)")
    ari_speech_voice: str = Field(default="ko", description="espeak-ng voice of the words")
    ari_rtp_host: str = Field(default="127.0.0.1", description="AMD audio: our address")
    ari_rtp_port: int = Field(default=0, ge=0, le=65535, description="AMD audio: 0 = any")
    dialer_enabled: bool = Field(default=True, description="run the dialer inside `serve`")
    dialer_lease_s: float = Field(default=60.0, gt=0, description="lead lease and call heartbeat")
    dialer_tick_s: float = Field(default=1.0, gt=0, description="pacing tick in seconds")
    dialer_scan_s: float = Field(default=2.0, gt=0, description="look for campaigns this often")
    nats_url: str | None = Field(
        default=None, description="NATS server for agents on several nodes; unset = in-process"
    )
    sim_scenario: str = Field(
        default="steady-50", description="sim carrier: a bundled scenario name or a TOML file"
    )
    sim_seed: int = 1
    sim_time_scale: float = Field(default=1.0, gt=0, description="sim carrier: delays x this")
    site_tz: str = Field(default="Asia/Seoul", description="time zone the pages show times in")
    tracking_secrets: dict[str, SecretStr] = Field(
        default_factory=dict, description="HMAC secret per tracking webhook provider"
    )

    def public_dict(self) -> dict[str, Any]:
        """The settings as a user may see them: secrets masked."""
        return self.model_dump(mode="json")


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Read settings: TOML file (if given or TELEMART_CONFIG is set), then the
    environment, which wins, then explicit overrides, which win over both."""
    path = config_file or os.environ.get("TELEMART_CONFIG")
    file_values: dict[str, Any] = {}
    if path:
        with Path(path).open("rb") as fh:
            raw = tomllib.load(fh)
        # Accept both a flat file and a [telemart] table.
        file_values = raw.get("telemart", raw)
    env_values = Settings().model_dump(exclude_unset=True)
    merged = {**file_values, **env_values, **overrides}
    return Settings.model_validate(merged) if merged else Settings()
