"""A campaign's settings as a document: checked once, with lawful defaults (COMPLIANCE.md).

Pure code: pydantic models, the calling-window arithmetic and the script renderer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dialer.core.abandon import UK_WINDOW_S, US_WINDOW_S
from dialer.core.compliance import MAX_CONNECT_WINDOW_S, MIN_RING_S
from dialer.core.pacing.base import PacingSettings
from dialer.core.pacing.registry import BUILT_IN

ABANDON_CAP_MAX = 0.03
RECORDING_RETENTION_DAYS = 90
DAY_START = dt.time(8, 0)  # outside 08:00-21:00 a call needs night-time consent
DAY_END = dt.time(21, 0)
SCRIPT_FIELDS = ("name", "first_name", "region", "agent", "campaign", "last_purchase_date")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_PACING_KEYS = frozenset(f.name for f in dataclasses.fields(PacingSettings))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CallingWindowIn(_Strict):
    """Local hours when calls may start, [start, end); start == end means all day."""

    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(20, 0)
    tz: str = "Asia/Seoul"  # used when a number's zone is unknown

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class ComplianceIn(_Strict):
    abandon_cap: float = Field(default=ABANDON_CAP_MAX, ge=0, le=ABANDON_CAP_MAX)
    uk_mode: bool = False  # Ofcom: 24 h window, machine-adjusted rate, 72 h redial rule
    abandon_window_s: float | None = Field(default=None, gt=0, le=90 * 86400.0)
    connect_window_s: float = Field(default=MAX_CONNECT_WINDOW_S, gt=0, le=MAX_CONNECT_WINDOW_S)
    ring_timeout_s: float = Field(default=20.0, ge=MIN_RING_S, le=120.0)
    max_attempts_total: int = Field(default=6, ge=1, le=50)
    max_attempts_per_day: int = Field(default=3, ge=1, le=20)
    require_marketing_consent: bool = True
    night_calling: bool = True  # outside 08-21 only with the callee's night consent

    @model_validator(mode="after")
    def _window(self) -> ComplianceIn:
        if self.abandon_window_s is None:
            self.abandon_window_s = UK_WINDOW_S if self.uk_mode else US_WINDOW_S
        return self


class DispositionIn(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=80)
    final: bool = False  # the lead is done
    retry_after_min: int | None = Field(default=None, ge=1, le=30 * 24 * 60)
    max_retries: int = Field(default=0, ge=0, le=20)
    callback: bool = False  # the agent picks a callback time
    adds_to_dnc: bool = False  # the customer asked not to be called again


DEFAULT_DISPOSITIONS: tuple[DispositionIn, ...] = (
    DispositionIn(code="sale", label="Sale", final=True),
    DispositionIn(code="no_sale", label="No sale", final=True),
    DispositionIn(code="callback", label="Call back", callback=True),
    DispositionIn(code="no_answer", label="No answer", retry_after_min=120, max_retries=3),
    DispositionIn(code="busy", label="Busy", retry_after_min=15, max_retries=3),
    DispositionIn(code="do_not_call", label="Do not call", final=True, adds_to_dnc=True),
    DispositionIn(code="wrong_number", label="Wrong number", final=True),
)


class CallbacksIn(_Strict):
    allow_personal: bool = True  # a callback may belong to the agent who set it
    default_owner: Literal["agent", "anyone"] = "agent"
    max_days_ahead: int = Field(default=14, ge=1, le=90)


class TelephonyIn(_Strict):
    """How the campaign's calls are placed (docs/telephony.md)."""

    # the registered number shown to the callee (전기통신사업법 §84-2: never hidden or
    # spoofed); None: the site's TELEMART_ARI_CALLER_ID
    caller_number: str | None = Field(default=None, pattern=r"^\+?[0-9]{3,15}$")
    # answering-machine detection; None: the telephony's default (off on Asterisk; the sim
    # carrier detects machines as the simulator does)
    amd: Literal["off", "asterisk", "vad"] | None = None
    amd_machine: Literal["hangup", "message"] = "hangup"  # a machine: drop it, or a message
    record: bool = False  # record calls, the announcement played first
    # 방문판매법: a telephone sale's records are kept at least 3 months
    recording_retention_days: int = Field(default=RECORDING_RETENTION_DAYS,
                                          ge=RECORDING_RETENTION_DAYS, le=5 * 365)


class CampaignConfig(_Strict):
    """Everything a campaign is, besides its status and lists."""

    name: str = Field(min_length=1, max_length=200)
    pacing_strategy: str = "progressive"
    pacing_settings: dict[str, float | bool | None] = Field(default_factory=dict)
    calling_window: CallingWindowIn = Field(default_factory=CallingWindowIn)
    compliance: ComplianceIn = Field(default_factory=ComplianceIn)
    script: str = Field(default="", max_length=20000)
    data_source_line: str = Field(default="", max_length=1000)
    dispositions: list[DispositionIn] = Field(
        default_factory=lambda: list(DEFAULT_DISPOSITIONS), min_length=1, max_length=50
    )
    callbacks: CallbacksIn = Field(default_factory=CallbacksIn)
    telephony: TelephonyIn = Field(default_factory=TelephonyIn)

    @field_validator("pacing_strategy")
    @classmethod
    def _strategy(cls, value: str) -> str:
        # Import paths are resolved when the campaign starts, not on every save.
        if value in BUILT_IN or _IMPORT_PATH.match(value):
            return value
        names = ", ".join(BUILT_IN)
        raise ValueError(f"unknown strategy {value!r}: one of {names} or module:Class")

    @field_validator("pacing_settings")
    @classmethod
    def _pacing(cls, value: dict[str, float | bool | None]) -> dict[str, float | bool | None]:
        unknown = sorted(set(value) - _PACING_KEYS)
        if unknown:
            raise ValueError(f"unknown pacing settings {unknown}: use {sorted(_PACING_KEYS)}")
        return value

    @field_validator("script", "data_source_line")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        unknown = sorted({m for m in _PLACEHOLDER.findall(value) if m not in SCRIPT_FIELDS})
        if unknown:
            raise ValueError(f"unknown placeholders {unknown}: use {', '.join(SCRIPT_FIELDS)}")
        return value

    @field_validator("dispositions")
    @classmethod
    def _unique(cls, value: list[DispositionIn]) -> list[DispositionIn]:
        codes = [d.code for d in value]
        if len(codes) != len(set(codes)):
            raise ValueError("disposition codes must be unique")
        return value


class CampaignPatch(_Strict):
    """PATCH body: any subset of the settings."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    pacing_strategy: str | None = None
    pacing_settings: dict[str, float | bool | None] | None = None
    calling_window: CallingWindowIn | None = None
    compliance: ComplianceIn | None = None
    script: str | None = None
    data_source_line: str | None = None
    dispositions: list[DispositionIn] | None = None
    callbacks: CallbacksIn | None = None
    telephony: TelephonyIn | None = None


def apply_patch(config: CampaignConfig, patch: CampaignPatch) -> CampaignConfig:
    """The settings after a PATCH, checked again as a whole."""
    merged = config.model_dump(mode="json")
    merged.update(patch.model_dump(mode="json", exclude_unset=True))
    return CampaignConfig.model_validate(merged)


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def window_minutes(start: dt.time, end: dt.time) -> set[int]:
    """The minutes of the day inside [start, end); start == end is all day."""
    a, b = _minutes(start), _minutes(end)
    if a == b:
        return set(range(1440))
    return set(range(a, b)) if a < b else set(range(a, 1440)) | set(range(b))


def night_only(window: CallingWindowIn) -> bool:
    """True when the campaign calls only at night (no minute inside 08:00-21:00), so only
    customers with night-time consent can ever be called."""
    return not (window_minutes(window.start, window.end) & window_minutes(DAY_START, DAY_END))


def render_script(template: str, fields: Mapping[str, object]) -> str:
    """Fill `{{name}}`-style placeholders with plain text. Nothing is evaluated: a value
    that looks like a placeholder or markup stays text (pages escape it on display)."""

    def fill(match: re.Match[str]) -> str:
        value = fields.get(match.group(1))
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(fill, template)
