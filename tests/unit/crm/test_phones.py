"""The phone fast path never disagrees with phonenumbers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crm.phones import Phone, fast_e164s, fast_normalize, normalize, slow_normalize

_digits = st.text(alphabet="0123456789", min_size=4, max_size=4)
_sep = st.sampled_from(["", " ", "-", "."])
_prefix = st.sampled_from(["0", "+82", "+82 ", "+82-", "+82.", "(0", "0("])
_close = st.sampled_from(["", ")", ") ", ")-"])
_carrier = st.sampled_from(["10", "11", "16", "70"])
_space = st.sampled_from(["", " ", "\t", "\u3000", "\xa0"])


@settings(max_examples=1500, deadline=None)
@given(_space, _prefix, _carrier, _close, _sep, _digits, _sep, _digits, _space)
def test_fast_path_agrees_with_phonenumbers(
    lead: str, prefix: str, carrier: str, close: str, s1: str, mid: str, s2: str, last: str,
    trail: str,
) -> None:
    raw = f"{lead}{prefix}{carrier}{close}{s1}{mid}{s2}{last}{trail}"
    fast = fast_normalize(raw)
    if fast is not None:
        assert fast == slow_normalize(raw)
    assert normalize(raw) == slow_normalize(raw)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=16),
                         st.from_regex(r"\A\(?0?10\)?-?[0-9]{4}-?[0-9]{4}\Z")), max_size=8))
def test_the_column_fast_path_agrees_with_phonenumbers(raws: list[str]) -> None:
    for raw, e164 in zip(raws, fast_e164s(raws), strict=True):
        if e164 is not None:
            assert slow_normalize(raw) == Phone(e164, "mobile")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=20))
def test_any_text_normalizes_like_phonenumbers(raw: str) -> None:
    assert normalize(raw) == slow_normalize(raw)


def test_fast_path_covers_the_common_forms() -> None:
    for raw in ("010-1234-5678", "01012345678", "+82 10 1234 5678", "+82-10-1234-5678",
                "+821012345678", "010 1234 5678", "010.1234.5678", "(010) 1234-5678",
                " (010)1234-5678 "):  # fmt: skip
        assert fast_normalize(raw) == Phone("+821012345678", "mobile"), raw


def test_every_form_phonenumbers_reads_is_accepted() -> None:
    for raw in ("０１０-１２３４-５６７８", "(010) 1234-5678", "+82 (0)10 1234 5678",
                "82 10 1234 5678", "010/1234/5678"):  # fmt: skip
        assert normalize(raw) == Phone("+821012345678", "mobile"), raw


def test_landline_and_foreign_numbers_keep_their_type() -> None:
    assert normalize("02-123-4567") == Phone("+8221234567", "fixed_line")
    assert normalize("+1 650-253-0000") == Phone("+16502530000", "fixed_line_or_mobile")


def test_invalid_numbers_are_none() -> None:
    # 010-59xx is not a valid mobile range: the fast path must not accept it.
    for raw in ("", "12345", "010-12-34", "010-5980-1234", "전화없음", "+82 10"):
        assert normalize(raw) is None, raw
