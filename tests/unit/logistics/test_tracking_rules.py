"""Pure rules: status order, payload shapes, signatures, carriers, windows, the sim carrier."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logistics.carriers import BadTrackingNumber, UnknownCarrier, carrier, normalise_tracking_number
from logistics.carriers_sim import SimulatedCarrier, journey
from logistics.polling import RateLimiter
from logistics.returns import Reason, cancellation_deadline
from logistics.tracking import (
    KST,
    BadPayload,
    S,
    TrackingEvent,
    parse_payload,
    sign,
    signature_ok,
    status_key,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=KST)
TRUE_PATH = [S.INFO_RECEIVED, S.IN_TRANSIT, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.ATTEMPT_FAIL,
             S.OUT_FOR_DELIVERY, S.DELIVERED]  # fmt: skip


def final(events: list[tuple[S, datetime]]) -> S:
    return max(events, key=lambda e: status_key(*e))[0]


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=len(TRUE_PATH)))
def test_final_status_does_not_depend_on_arrival_order(rnd: random.Random, n: int) -> None:
    truth = [(s, T0 + timedelta(hours=i)) for i, s in enumerate(TRUE_PATH[:n])]
    arrived = truth + [rnd.choice(truth) for _ in range(3)]  # duplicates
    rnd.shuffle(arrived)
    current = (S.PENDING, datetime.min.replace(tzinfo=UTC))
    for event in arrived:  # the guarded UPDATE, one event at a time
        if status_key(*event) > status_key(*current):
            current = event
    assert current[0] == truth[-1][0] == final(arrived)


def test_terminal_states_stay_put() -> None:
    delivered = status_key(S.DELIVERED, T0)
    assert status_key(S.IN_TRANSIT, T0 + timedelta(days=3)) < delivered
    assert status_key(S.EXPIRED, T0 + timedelta(days=30)) < delivered
    assert status_key(S.EXCEPTION, T0 + timedelta(days=1)) < status_key(S.RETURNED_TO_SENDER, T0)
    # Before pickup, label data never undoes a scan.
    assert status_key(S.INFO_RECEIVED, T0 + timedelta(days=1)) < status_key(S.IN_TRANSIT, T0)
    assert S.DELIVERED.terminal
    assert not S.EXCEPTION.terminal


def test_signatures() -> None:
    body = b'{"a": 1}'
    assert signature_ok("k", body, sign("k", body))
    assert not signature_ok("k", body + b" ", sign("k", body))
    assert not signature_ok("k", body, None)
    assert sign("k", body).startswith("t=")
    # The time is signed: a captured request is refused once 5 minutes have passed.
    old = sign("k", body, at=1_000_000)
    assert signature_ok("k", body, old, now=1_000_000 + 299)
    assert not signature_ok("k", body, old, now=1_000_000 + 301)
    assert not signature_ok("k", body, old.replace("t=1000000", "t=1000100"), now=1_000_100)
    assert not signature_ok("k", body, "sha256=" + old.split("v1=")[1], now=1_000_000)


def test_shapes_and_batches() -> None:
    one = parse_payload("telemart", {"tracking_number": "1", "status": "delivered",
                                     "occurred_at": "2025-01-01T10:00:00"})  # fmt: skip
    assert one[0].occurred_at == datetime(2025, 1, 1, 10, tzinfo=KST)  # naive = KST
    st_api = parse_payload("sweettracker", [{"invoiceNo": "9", "trackingDetails": [
        {"time": 1735700000000, "level": 2, "where": "hub", "kind": "집화처리"},
        {"time": 1735710000000, "level": 6, "where": "서울", "kind": "배송완료"}]}])  # fmt: skip
    assert [e.status for e in st_api] == [S.IN_TRANSIT, S.DELIVERED]
    aftership = parse_payload("aftership", {"msg": {"tracking_number": "5", "checkpoints": [
        {"checkpoint_time": "2025-01-01T10:00:00+09:00", "tag": "AvailableForPickup"}]}})
    assert aftership[0].status is S.AVAILABLE_FOR_PICKUP
    with pytest.raises(BadPayload, match="item 1"):
        parse_payload("telemart", [one_raw(), {"tracking_number": "1", "status": "x",
                                               "occurred_at": "2025-01-01"}])  # fmt: skip
    with pytest.raises(BadPayload, match="level"):
        parse_payload("sweettracker", {"invoice_no": "1", "level": 9, "time_trans": "2025-01-01"})


def one_raw() -> dict[str, str]:
    return {"tracking_number": "1", "status": "in_transit", "occurred_at": "2025-01-01T00:00Z"}


def test_dedup_key_prefers_the_provider_id() -> None:
    base = TrackingEvent(tracking_number="1", status=S.IN_TRANSIT, occurred_at=T0, location="a")
    same = TrackingEvent(tracking_number="1", status=S.IN_TRANSIT, occurred_at=T0, location="a")
    moved = TrackingEvent(tracking_number="1", status=S.IN_TRANSIT, occurred_at=T0, location="b")
    assert base.dedup_key() == same.dedup_key() != moved.dedup_key()
    with_id = TrackingEvent(tracking_number="1", status=S.IN_TRANSIT, occurred_at=T0, event_id="x")
    assert with_id.dedup_key() == "id:x"


def test_carriers_and_numbers() -> None:
    assert {carrier(x).code for x in ("04", "CJ대한통운", "kr.cjlogistics", "CJ")} == {"cj"}
    assert {carrier(c).sweettracker_code for c in ("hanjin", "lotte", "epost", "logen")} == {
        "05", "08", "01", "06"}
    assert normalise_tracking_number("epost", "1234-5678-90123") == "1234567890123"
    with pytest.raises(BadTrackingNumber, match="13 digits"):
        normalise_tracking_number("epost", "123456789012")
    with pytest.raises(BadTrackingNumber, match="digits"):
        normalise_tracking_number("cj", "12345678901A")
    with pytest.raises(UnknownCarrier):
        carrier("fedex")


def test_cancellation_windows() -> None:
    received = datetime(2025, 1, 31, 20, 0, tzinfo=KST)
    phone = cancellation_deadline(received_at=received, telephone_sale=True,
                                  reason=Reason.CHANGED_MIND)  # fmt: skip
    web = cancellation_deadline(received_at=received, telephone_sale=False,
                                reason=Reason.CHANGED_MIND)  # fmt: skip
    ad = cancellation_deadline(received_at=received, telephone_sale=False,
                               reason=Reason.NOT_AS_ADVERTISED)  # fmt: skip
    assert phone == datetime(2025, 2, 15, tzinfo=KST)  # through the 14th day after receipt
    assert web == datetime(2025, 2, 8, tzinfo=KST)
    assert ad == datetime(2025, 5, 1, tzinfo=KST)  # 3 months: 30 April, to its end
    # Received late in the evening UTC = the next day in Seoul.
    utc_evening = datetime(2025, 1, 31, 16, 0, tzinfo=UTC)
    assert cancellation_deadline(received_at=utc_evening, telephone_sale=False,
                                 reason=Reason.CHANGED_MIND) == datetime(2025, 2, 9, tzinfo=KST)


def test_sim_carrier_is_deterministic_and_moves_forward() -> None:
    assert journey("123412341234") == journey("123412341234")
    sim = SimulatedCarrier(speed=60.0)
    early = sim.events(carrier="lotte", tracking_number="123412341234", dispatched_at=T0,
                       now=T0 + timedelta(minutes=5))  # fmt: skip
    late = sim.events(carrier="lotte", tracking_number="123412341234", dispatched_at=T0,
                      now=T0 + timedelta(days=1))  # fmt: skip
    assert late[: len(early)] == early
    assert late[-1].status.terminal or late[-1].status is S.EXCEPTION
    endings = {journey(f"5000000{i:05d}")[-1].status for i in range(400)}
    assert {S.DELIVERED, S.EXCEPTION, S.RETURNED_TO_SENDER} <= endings


async def test_rate_limiter_spaces_requests() -> None:
    now = [0.0]
    stamps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=fake_sleep)

    async def one() -> None:
        await limiter.acquire()
        stamps.append(now[0])

    await asyncio.wait_for(asyncio.gather(*(one() for _ in range(9))), timeout=5)
    assert stamps == [i * 0.25 for i in range(9)]
