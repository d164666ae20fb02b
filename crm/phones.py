"""Phone numbers: valid, E.164 and typed exactly as `phonenumbers` decides (default region KR).

Most Korean customer files hold mobile numbers in a handful of shapes (010-1234-5678,
01012345678, +82 10 1234 5678). Parsing them with phonenumbers costs ~30 µs each, too slow
for a million-row import, so those shapes take a fast path: one regex pulls out the national
number and one more regex — built at import time from phonenumbers' own KR metadata, in the
exact order its type check uses — says whether phonenumbers would call it a valid mobile. Any
other input (or a fast-path miss) goes to phonenumbers itself. tests/unit/crm/test_phones.py
checks with hypothesis that the two never disagree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from itertools import compress, repeat
from operator import is_
from typing import NamedTuple, cast

import phonenumbers
from phonenumbers import PhoneNumberType, phonenumberutil

DEFAULT_REGION = "KR"

# PhoneNumberType value -> the name stored in customers.phone_type.
_TYPE_NAMES: dict[int, str] = {
    value: name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}


class Phone(NamedTuple):
    e164: str
    type: str


def type_name(number_type: int) -> str:
    return _TYPE_NAMES.get(number_type, "unknown")


def _desc_regex(desc: phonenumbers.PhoneNumberDesc | None, length: int) -> str | None:
    """The desc's pattern for national numbers of `length` digits (None: cannot match),
    mirroring phonenumberutil._is_number_matching_desc."""
    if desc is None or desc.national_number_pattern is None:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    return desc.national_number_pattern


def _mobile_only_regex(length: int) -> re.Pattern[str] | None:
    """A regex matching exactly the `length`-digit KR national numbers that phonenumbers
    types as MOBILE (general desc matches, no earlier type matches, fixed line does not)."""
    md = phonenumbers.PhoneMetadata.metadata_for_region(DEFAULT_REGION)
    if md is None or md.same_mobile_and_fixed_line_pattern:
        return None
    general = _desc_regex(md.general_desc, length)
    mobile = _desc_regex(md.mobile, length)
    if general is None or mobile is None:
        return None
    earlier = [md.premium_rate, md.toll_free, md.shared_cost, md.voip, md.personal_number,
               md.pager, md.uan, md.voicemail, md.fixed_line]  # fmt: skip
    parts = [f"(?=(?:{general})$)"]
    for desc in earlier:
        pattern = _desc_regex(desc, length)
        if pattern is not None:
            parts.append(f"(?!(?:{pattern})$)")
    parts.append(f"(?:{mobile})$")
    return re.compile("".join(parts), re.ASCII)


# 010 numbers written the common ways: national (0 trunk prefix, the 010 maybe in
# parentheses) or +82, separators space/dot/hyphen (at most one between groups), ASCII
# digits only, ASCII blanks around. `(?(1)\))`: a closing parenthesis only after an opening one.
_FAST_SHAPE = re.compile(
    r"\s*(?:(\()?0|\+82[ .-]?)10(?(1)\))[ .-]?([0-9]{4})[ .-]?([0-9]{4})\s*", re.ASCII
)
_FAST_MOBILE = _mobile_only_regex(10)
# The same test on a whole E.164 number: "+82" then a national number it accepts.
_FAST_MOBILE_E164 = None if _FAST_MOBILE is None else re.compile(
    r"\+82(?:" + _FAST_MOBILE.pattern + ")", re.ASCII
)
assert phonenumberutil is not None  # the module whose rules the fast path mirrors


def fast_e164s(raws: Sequence[str]) -> list[str | None]:
    """The fast path for a column of cells: each cell's E.164 form if it is a common-shaped
    valid KR mobile, else None ("ask phonenumbers", not "invalid"). Works column-wise so the
    per-cell work runs inside the regex engine: one Python-level pass builds the candidates,
    and only cells that fail the mobile test are visited again."""
    if _FAST_MOBILE_E164 is None:
        return [None] * len(raws)
    candidates = [
        "+8210" + m[2] + m[3] if m is not None else "" for m in map(_FAST_SHAPE.fullmatch, raws)
    ]
    tests = list(map(_FAST_MOBILE_E164.match, candidates))  # "" never matches
    found = cast(list[str | None], candidates)
    if None in tests:
        for i in list(compress(range(len(found)), map(is_, tests, repeat(None)))):
            found[i] = None
    return found


def fast_normalize(raw: str) -> Phone | None:
    """The fast path alone, for one cell: see `fast_e164s`."""
    e164 = fast_e164s((raw,))[0]
    return None if e164 is None else Phone(e164, "mobile")


# Files repeat their bad values ("", "없음", "N/A", "0000", ...): remember recent answers.
@functools.lru_cache(maxsize=4096)
def slow_normalize(raw: str) -> Phone | None:
    """phonenumbers' answer: None when it cannot parse the text or the number is invalid."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164, type_name(phonenumbers.number_type(number)))


def normalize(raw: str) -> Phone | None:
    """E.164 and type of `raw`, or None if phonenumbers (region KR) says it is not valid."""
    return fast_normalize(raw) or slow_normalize(raw)


def normalize_e164(raw: str) -> str | None:
    phone = normalize(raw)
    return phone.e164 if phone else None
