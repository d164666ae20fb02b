"""What a customer file's columns mean, and how their cells are read.

Headers match case- and space-insensitively (underscores and hyphens are ignored too), in
Korean or English. Optional values that cannot be read come back as None so the caller can
warn and still keep the row.
"""

from __future__ import annotations

import datetime as dt
import enum
import re


class Field(enum.StrEnum):
    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    POSTAL_CODE = "postal_code"
    BIRTH_DATE = "birth_date"
    GENDER = "gender"
    CONSENT = "marketing_consent"
    EXTERNAL_REF = "external_ref"
    REGISTERED_ON = "registered_on"  # do-not-call files only


_ALIASES: dict[Field, tuple[str, ...]] = {
    Field.NAME: ("name", "이름", "성명", "고객명", "fullname", "customername"),
    Field.PHONE: ("phone", "phonenumber", "phonee164", "전화번호", "휴대폰", "휴대폰번호",
                  "핸드폰", "핸드폰번호", "휴대전화", "휴대전화번호", "연락처", "mobile",
                  "mobilephone", "tel", "telephone", "cellphone"),
    Field.EMAIL: ("email", "e-mail", "mail", "이메일", "이메일주소", "메일"),
    Field.ADDRESS: ("address", "주소", "배송지", "배송지주소"),
    Field.POSTAL_CODE: ("postalcode", "postcode", "zip", "zipcode", "우편번호"),
    Field.BIRTH_DATE: ("birthdate", "birthday", "dob", "dateofbirth", "생년월일", "생일"),
    Field.GENDER: ("gender", "sex", "성별"),
    Field.CONSENT: ("marketingconsent", "consent", "consentmarketing", "마케팅수신동의",
                    "수신동의", "마케팅동의", "마케팅수신", "광고수신동의"),
    Field.EXTERNAL_REF: ("customerid", "externalid", "externalref", "고객번호", "고객id",
                         "회원번호", "회원id"),
    Field.REGISTERED_ON: ("registeredon", "registrationdate", "date", "등록일", "등록일자"),
}  # fmt: skip

_STRIP = re.compile(r"[\s_\-\ufeff\"']+")


def header_key(header: str) -> str:
    """'Customer ID ' / 'customer_id' / '고객 번호' -> a comparable key."""
    return _STRIP.sub("", header).lower()


_BY_KEY: dict[str, Field] = {
    header_key(alias): field for field, aliases in _ALIASES.items() for alias in aliases
}


def map_headers(headers: list[str], wanted: frozenset[Field]) -> tuple[dict[Field, int], list[str]]:
    """{field: column index} for the fields in `wanted` (first column wins), and the
    headers left over, in file order."""
    columns: dict[Field, int] = {}
    unknown: list[str] = []
    for index, header in enumerate(headers):
        field = _BY_KEY.get(header_key(header))
        if field is not None and field in wanted and field not in columns:
            columns[field] = index
        else:
            unknown.append(header)
    return columns, unknown


# --- cell values ----------------------------------------------------------------------

_DATE = re.compile(
    r"([0-9]{4})([-./])([0-9]{1,2})\2([0-9]{1,2})\.?|([0-9]{4})([0-9]{2})([0-9]{2})", re.ASCII
)
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


def parse_date(text: str, *, latest: dt.date | None = None) -> dt.date | None:
    """YYYY-MM-DD, YYYY.MM.DD, YYYY/MM/DD or YYYYMMDD; None if unreadable or out of range."""
    m = _DATE.fullmatch(text.strip())
    if m is None:
        return None
    if m[1] is not None:
        year, month, day = int(m[1]), int(m[3]), int(m[4])
    else:
        year, month, day = int(m[5]), int(m[6]), int(m[7])
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return None
    if value < EARLIEST_BIRTH_DATE or (latest is not None and value > latest):
        return None
    return value


_GENDERS = {
    "남": "M", "남성": "M", "남자": "M", "m": "M", "male": "M",
    "여": "F", "여성": "F", "여자": "F", "f": "F", "female": "F",
}  # fmt: skip


def parse_gender(text: str) -> str | None:
    return _GENDERS.get(text.strip().lower())


_CONSENTS = {
    "y": True, "yes": True, "동의": True, "1": True, "true": True, "t": True, "o": True,
    "n": False, "no": False, "미동의": False, "비동의": False, "동의안함": False,
    "거부": False, "0": False, "false": False, "f": False, "x": False,
}  # fmt: skip


def parse_consent(text: str) -> bool | None:
    return _CONSENTS.get(text.strip().replace(" ", "").lower())


# --- region from the address's first token ----------------------------------------------

_REGIONS: dict[str, tuple[str, ...]] = {
    "서울특별시": ("서울", "서울시", "서울특별시"),
    "부산광역시": ("부산", "부산시", "부산광역시"),
    "대구광역시": ("대구", "대구시", "대구광역시"),
    "인천광역시": ("인천", "인천시", "인천광역시"),
    "광주광역시": ("광주", "광주광역시"),  # 경기도's 광주시 is written after 경기
    "대전광역시": ("대전", "대전시", "대전광역시"),
    "울산광역시": ("울산", "울산시", "울산광역시"),
    "세종특별자치시": ("세종", "세종시", "세종특별자치시"),
    "경기도": ("경기", "경기도"),
    "강원특별자치도": ("강원", "강원도", "강원특별자치도"),
    "충청북도": ("충북", "충청북도"),
    "충청남도": ("충남", "충청남도"),
    "전북특별자치도": ("전북", "전라북도", "전북특별자치도"),
    "전라남도": ("전남", "전라남도"),
    "경상북도": ("경북", "경상북도"),
    "경상남도": ("경남", "경상남도"),
    "제주특별자치도": ("제주", "제주도", "제주특별자치도"),
}
_REGION_BY_TOKEN = {token: region for region, tokens in _REGIONS.items() for token in tokens}
REGIONS: tuple[str, ...] = tuple(_REGIONS)


def region_of(address: str) -> str | None:
    """The canonical 시/도 of a Korean address ('서울 강남구 …' -> '서울특별시'), else None."""
    parts = address.split(None, 1)
    return _REGION_BY_TOKEN.get(parts[0]) if parts else None
