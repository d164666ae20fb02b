"""The carrier adapter interface and a simulated carrier that moves parcels along.

The simulation is deterministic: a parcel's whole journey follows from its
tracking number, and what the carrier reports depends only on how much time has
passed since dispatch. `speed` compresses time (60 = a simulated hour per
minute) for demos.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from logistics.tracking import S, ShipmentStatus, TrackingEvent

HUBS = ("곤지암 Hub", "대전 Hub", "옥천 HUB", "청원 Hub", "군포 터미널", "부산 신항 Hub")
BRANCHES = ("서울강남", "서울마포", "부산해운대", "대구수성", "인천연수", "광주서구", "수원영통")


class CarrierAdapter(Protocol):
    """Asks a carrier where a parcel is; returns every checkpoint it knows."""

    async def track(
        self, *, carrier: str, tracking_number: str, dispatched_at: datetime, now: datetime
    ) -> list[TrackingEvent]: ...


@dataclass(frozen=True, kw_only=True)
class Step:
    after_h: float  # hours after dispatch
    status: ShipmentStatus
    location: str
    message: str


def journey(tracking_number: str) -> list[Step]:
    """The parcel's full simulated journey, a pure function of its number."""
    seed = int.from_bytes(hashlib.sha256(tracking_number.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    hub, branch = rng.choice(HUBS), rng.choice(BRANCHES)
    t = rng.uniform(0.2, 1.0)
    steps = [Step(after_h=t, status=S.INFO_RECEIVED, location="발송지", message="접수")]
    t += rng.uniform(2, 6)
    steps.append(Step(after_h=t, status=S.IN_TRANSIT, location="발송지 집하점", message="집화처리"))
    t += rng.uniform(3, 8)
    steps.append(Step(after_h=t, status=S.IN_TRANSIT, location=hub, message="간선상차"))
    t += rng.uniform(4, 10)
    steps.append(Step(after_h=t, status=S.IN_TRANSIT, location=branch, message="배달지 도착"))
    t += rng.uniform(1, 3)
    steps.append(Step(after_h=t, status=S.OUT_FOR_DELIVERY, location=branch, message="배송출발"))
    roll = rng.random()
    if roll < 0.85:
        t += rng.uniform(1, 6)
        steps.append(Step(after_h=t, status=S.DELIVERED, location=branch, message="배송완료"))
    elif roll < 0.93:
        t += rng.uniform(1, 5)
        steps.append(Step(after_h=t, status=S.ATTEMPT_FAIL, location=branch, message="고객부재"))
        t += rng.uniform(16, 22)
        steps.append(
            Step(after_h=t, status=S.OUT_FOR_DELIVERY, location=branch, message="재배송출발")
        )
        t += rng.uniform(1, 5)
        steps.append(Step(after_h=t, status=S.DELIVERED, location=branch, message="배송완료"))
    elif roll < 0.97:
        t += rng.uniform(1, 5)
        steps.append(Step(after_h=t, status=S.EXCEPTION, location=branch, message="주소불명 보관"))
    else:
        for _ in range(2):
            t += rng.uniform(1, 24)
            steps.append(
                Step(after_h=t, status=S.ATTEMPT_FAIL, location=branch, message="고객부재")
            )
        t += rng.uniform(24, 48)
        steps.append(
            Step(after_h=t, status=S.RETURNED_TO_SENDER, location=hub, message="반송처리")
        )
    return steps


@dataclass(frozen=True, kw_only=True)
class SimulatedCarrier:
    """A carrier without push that answers polls from `journey`."""

    speed: float = 1.0

    def events(
        self, *, carrier: str, tracking_number: str, dispatched_at: datetime, now: datetime
    ) -> list[TrackingEvent]:
        elapsed_h = (now - dispatched_at).total_seconds() / 3600.0 * self.speed
        return [
            TrackingEvent(
                tracking_number=tracking_number, carrier=carrier, status=step.status,
                occurred_at=dispatched_at + timedelta(hours=step.after_h / self.speed),
                location=step.location, message=step.message, raw_status=step.message,
                event_id=f"sim:{carrier}:{tracking_number}:{i}",
            )
            for i, step in enumerate(journey(tracking_number))
            if step.after_h <= elapsed_h
        ]

    async def track(
        self, *, carrier: str, tracking_number: str, dispatched_at: datetime, now: datetime
    ) -> list[TrackingEvent]:
        return self.events(
            carrier=carrier, tracking_number=tracking_number, dispatched_at=dispatched_at,
            now=now,
        )  # fmt: skip
