"""Masked phones, script rendering and campaign settings defaults (pure)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from crm.segments import age_on, mask_phone
from dialer.store.campaigns_config import (
    CallingWindowIn,
    CampaignConfig,
    CampaignPatch,
    apply_patch,
    night_only,
    render_script,
)


@pytest.mark.parametrize(("phone", "masked"), [
    ("+821012345678", "+82 10-****-5678"),
    ("+82212345678", "+82 2-****-5678"),
    ("+12015550123", "+1 201-***-0123"),
    ("010-1234", "****1234"),
])  # fmt: skip
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_age_on_birthday_boundary() -> None:
    assert age_on(dt.date(1990, 6, 2), dt.date(2025, 6, 1)) == 34
    assert age_on(dt.date(1990, 6, 1), dt.date(2025, 6, 1)) == 35
    assert age_on(None, dt.date(2025, 6, 1)) is None


def test_render_script_fills_text_and_evaluates_nothing() -> None:
    text = render_script("안녕하세요 {{ name }}님, {{agent}}입니다. {{region}}",
                         {"name": "{{agent}}<b>", "agent": "민수", "region": None})
    assert text == "안녕하세요 {{agent}}<b>님, 민수입니다. "


def test_night_only_windows() -> None:
    assert night_only(CallingWindowIn(start=dt.time(21, 0), end=dt.time(8, 0)))
    assert not night_only(CallingWindowIn(start=dt.time(20, 0), end=dt.time(8, 0)))
    assert not night_only(CallingWindowIn(start=dt.time(9, 0), end=dt.time(20, 0)))
    assert not night_only(CallingWindowIn(start=dt.time(0, 0), end=dt.time(0, 0)))


def test_config_defaults_and_limits() -> None:
    config = CampaignConfig(name="x")
    assert config.compliance.abandon_cap == 0.03
    assert config.compliance.abandon_window_s == 30 * 86400
    assert config.compliance.connect_window_s == 2.0
    assert config.compliance.ring_timeout_s >= 15
    with pytest.raises(ValidationError):
        CampaignConfig.model_validate({"name": "x", "compliance": {"ring_timeout_s": 14.9}})
    with pytest.raises(ValidationError):
        CampaignConfig.model_validate({"name": "x", "dispositions": [
            {"code": "a", "label": "A"}, {"code": "a", "label": "B"}]})
    assert CampaignConfig(name="x", pacing_strategy="mypkg.pace:Mine").pacing_strategy


def test_patch_merges_and_recomputes_the_uk_window() -> None:
    config = CampaignConfig(name="x")
    patched = apply_patch(config, CampaignPatch.model_validate({"compliance": {"uk_mode": True}}))
    assert patched.compliance.abandon_window_s == 86400
    assert patched.name == "x"
