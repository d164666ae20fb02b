"""Headers, dates, genders, consents and regions."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.fields import (
    Field,
    map_headers,
    parse_consent,
    parse_date,
    parse_gender,
    region_of,
)

ALL = frozenset(Field)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("이름", Field.NAME), ("성명", Field.NAME), ("고객명", Field.NAME), ("Name", Field.NAME),
        ("전화번호", Field.PHONE), ("휴대폰", Field.PHONE), ("휴대폰 번호", Field.PHONE),
        ("핸드폰", Field.PHONE), ("연락처", Field.PHONE), ("Mobile", Field.PHONE),
        ("TEL", Field.PHONE), ("phone_e164", Field.PHONE), ("이메일", Field.EMAIL),
        ("E-mail", Field.EMAIL), ("주소", Field.ADDRESS), ("우편번호", Field.POSTAL_CODE),
        ("ZIP", Field.POSTAL_CODE), ("postal_code", Field.POSTAL_CODE),
        ("생년월일", Field.BIRTH_DATE), ("birth_date", Field.BIRTH_DATE), ("성별", Field.GENDER),
        ("마케팅수신동의", Field.CONSENT), ("마케팅 수신 동의", Field.CONSENT),
        ("수신동의", Field.CONSENT), ("consent_marketing", Field.CONSENT),
        ("고객번호", Field.EXTERNAL_REF), ("customer_id", Field.EXTERNAL_REF),
        ("Customer ID", Field.EXTERNAL_REF), ("external_ref", Field.EXTERNAL_REF),
    ],
)  # fmt: skip
def test_headers_in_korean_and_english(header: str, field: Field) -> None:
    columns, unknown = map_headers([" x ", f"  {header} "], ALL)
    assert columns == {field: 1}
    assert unknown == [" x "]


def test_first_column_wins_and_the_rest_are_unknown() -> None:
    columns, unknown = map_headers(["휴대폰", "전화번호", "비고"], ALL)
    assert columns == {Field.PHONE: 0}
    assert unknown == ["전화번호", "비고"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1990-01-02", dt.date(1990, 1, 2)), ("1990.01.02", dt.date(1990, 1, 2)),
     ("19900102", dt.date(1990, 1, 2)), ("1990.1.2.", dt.date(1990, 1, 2)),
     ("1990/01/02", dt.date(1990, 1, 2)), ("1990-13-01", None), ("1990-02-30", None),
     ("90-01-02", None), ("1990-01.02", None), ("abc", None), ("1850-01-01", None)],
)  # fmt: skip
def test_birth_dates(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


def test_future_birth_dates_are_unreadable() -> None:
    assert parse_date("2030-01-01", latest=dt.date(2025, 1, 1)) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("남", "M"), ("여", "F"), ("남성", "M"), ("여성", "F"), ("M", "M"), ("f", "F"),
     (" 여 ", "F"), ("X", None), ("", None)],
)  # fmt: skip
def test_genders(text: str, expected: str | None) -> None:
    assert parse_gender(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Y", True), ("N", False), ("동의", True), ("미동의", False), ("1", True), ("0", False),
     ("true", True), ("FALSE", False), ("maybe", None)],
)  # fmt: skip
def test_consents(text: str, expected: bool | None) -> None:
    assert parse_consent(text) is expected


@pytest.mark.parametrize(
    ("address", "region"),
    [("서울 강남구 테헤란로 1", "서울특별시"), ("서울특별시 중구", "서울특별시"),
     ("경기 성남시", "경기도"), ("부산광역시 해운대구", "부산광역시"),
     ("강원도 춘천시", "강원특별자치도"), ("전라북도 전주시", "전북특별자치도"),
     ("제주 제주시", "제주특별자치도"), ("Seoul", None), ("", None)],
)  # fmt: skip
def test_region_from_the_first_token(address: str, region: str | None) -> None:
    assert region_of(address) == region
