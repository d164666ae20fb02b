"""Korean parcel carriers: our codes, their Sweet Tracker codes, how we hear from them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from logistics.errors import LogisticsError


class UnknownCarrier(LogisticsError):
    """No such carrier."""


class BadTrackingNumber(LogisticsError):
    """That tracking number cannot belong to this carrier."""


@dataclass(frozen=True, kw_only=True)
class Carrier:
    code: str  # ours, stored in shipments.carrier
    name: str
    sweettracker_code: str  # t_code in the Sweet Tracker API
    aliases: frozenset[str]  # other identifiers seen in payloads (tracker.delivery ids, ...)
    digits: frozenset[int]  # lengths a waybill number of this carrier has
    push: bool  # True: events arrive by webhook; False: the poll job asks
    poll_rps: float  # requests per second we allow ourselves against its API


CARRIERS: dict[str, Carrier] = {
    c.code: c
    for c in (
        Carrier(code="cj", name="CJ대한통운", sweettracker_code="04",
                aliases=frozenset({"kr.cjlogistics", "cjlogistics", "cj-logistics"}),
                digits=frozenset({10, 12}), push=True, poll_rps=5.0),
        Carrier(code="hanjin", name="한진택배", sweettracker_code="05",
                aliases=frozenset({"kr.hanjin"}),
                digits=frozenset({10, 12}), push=True, poll_rps=5.0),
        Carrier(code="lotte", name="롯데택배", sweettracker_code="08",
                aliases=frozenset({"kr.lotte", "lotte-global"}),
                digits=frozenset({12, 13}), push=False, poll_rps=3.0),
        Carrier(code="epost", name="우체국택배", sweettracker_code="01",
                aliases=frozenset({"kr.epost", "korea-post"}),
                digits=frozenset({13}), push=False, poll_rps=2.0),
        Carrier(code="logen", name="로젠택배", sweettracker_code="06",
                aliases=frozenset({"kr.logen"}),
                digits=frozenset({11}), push=False, poll_rps=2.0),
    )
}  # fmt: skip

_BY_ANY_NAME: dict[str, Carrier] = {}
for _c in CARRIERS.values():
    for _key in (_c.code, _c.name, _c.sweettracker_code, *_c.aliases):
        _BY_ANY_NAME[_key.lower()] = _c


def carrier(ident: str) -> Carrier:
    """A carrier by our code, Sweet Tracker code, Korean name or alias."""
    found = _BY_ANY_NAME.get(ident.strip().lower())
    if found is None:
        raise UnknownCarrier(
            f"unknown carrier {ident!r}; one of {', '.join(sorted(CARRIERS))}"
        )
    return found


_SEPARATORS = re.compile(r"[\s-]")


def normalise_tracking_number(carrier_code: str, raw: str) -> str:
    """Digits only, with the length the carrier uses ('1234-5678-9012' is fine)."""
    c = carrier(carrier_code)
    number = _SEPARATORS.sub("", raw)
    if not number.isdigit() or not number.isascii():
        raise BadTrackingNumber(f"tracking number {raw!r} must be digits")
    if len(number) not in c.digits:
        lengths = " or ".join(str(n) for n in sorted(c.digits))
        raise BadTrackingNumber(
            f"a {c.name} tracking number has {lengths} digits, {raw!r} has {len(number)}"
        )
    return number
