"""Tracking statuses, the order they may move in, and the webhook payload shapes.

Pure code: no database. `tracking_ingest` stores what this module parses.

A shipment's status is the checkpoint with the greatest key (tier, time, rank):
terminal states outrank everything (delivered stays delivered), and among the
states in between the newest checkpoint wins. Because the key is a total order
on checkpoints, the final status does not depend on the order in which events
arrive or on duplicates.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from logistics.errors import LogisticsError

KST = ZoneInfo("Asia/Seoul")
SIGNATURE_HEADER = "X-Telemart-Signature"
SIGNATURE_TOLERANCE_S = 300.0  # a signed request older or newer than this is refused
MAX_BATCH = 5000  # events in one webhook request


class BadPayload(LogisticsError):
    """The tracking payload cannot be read."""


class ShipmentStatus(enum.StrEnum):
    PENDING = "pending"
    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    ATTEMPT_FAIL = "attempt_fail"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # ours: the order was cancelled before dispatch

    @property
    def tier(self) -> int:
        return _TIER[self]

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def terminal(self) -> bool:
        return _TIER[self] >= TERMINAL_TIER


S = ShipmentStatus
TERMINAL_TIER = 2
# Tier: 0 before the carrier has the parcel, 1 moving, 2+ terminal. A higher
# terminal tier wins over a lower one whatever the times say.
_TIER: dict[ShipmentStatus, int] = {
    S.PENDING: 0, S.INFO_RECEIVED: 0,
    S.IN_TRANSIT: 1, S.OUT_FOR_DELIVERY: 1, S.ATTEMPT_FAIL: 1,
    S.AVAILABLE_FOR_PICKUP: 1, S.EXCEPTION: 1,
    S.EXPIRED: 2, S.RETURNED_TO_SENDER: 3, S.DELIVERED: 4, S.CANCELLED: 5,
}  # fmt: skip
# Rank breaks ties between checkpoints with the same tier and time.
_RANK: dict[ShipmentStatus, int] = {
    S.PENDING: 0, S.INFO_RECEIVED: 1, S.IN_TRANSIT: 2, S.OUT_FOR_DELIVERY: 3,
    S.AVAILABLE_FOR_PICKUP: 3, S.ATTEMPT_FAIL: 4, S.EXCEPTION: 4, S.EXPIRED: 5,
    S.RETURNED_TO_SENDER: 6, S.DELIVERED: 7, S.CANCELLED: 8,
}  # fmt: skip

StatusKey = tuple[int, datetime, int]
NEVER = datetime.min.replace(tzinfo=UTC)


def status_key(status: ShipmentStatus, at: datetime) -> StatusKey:
    return (status.tier, at, status.rank)


def moves(current: StatusKey, new: StatusKey) -> bool:
    """True if a checkpoint with key `new` replaces the status with key `current`."""
    return new > current


@dataclass(frozen=True, kw_only=True)
class TrackingEvent:
    """One checkpoint in our normalised shape."""

    tracking_number: str
    status: ShipmentStatus
    occurred_at: datetime
    carrier: str | None = None
    location: str = ""
    message: str = ""
    raw_status: str | None = None
    event_id: str | None = None

    def dedup_key(self) -> str:
        """Provider event id, else a digest of what makes two reports the same event."""
        if self.event_id:
            return f"id:{self.event_id}"
        text = "|".join(
            (self.tracking_number, self.status.value, self.occurred_at.isoformat(), self.location)
        )
        return "h:" + hashlib.sha256(text.encode()).hexdigest()[:32]


# --- signatures ------------------------------------------------------------------


def sign(secret: str, body: bytes, *, at: float | None = None) -> str:
    """The signature header value for `body` sent at `at` (Unix seconds, default now):
    `t=<seconds>,v1=<hex HMAC-SHA256 of "<seconds>." + body>`. The time is signed with the
    body, so a captured request cannot be replayed after the tolerance (Stripe's scheme)."""
    stamp = int(time.time() if at is None else at)
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def signature_ok(
    secret: str, body: bytes, header: str | None, *, now: float | None = None,
    tolerance_s: float = SIGNATURE_TOLERANCE_S,
) -> bool:  # fmt: skip
    """True if `header` signs `body` with `secret` at a time within `tolerance_s` of now."""
    if not header:
        return False
    parts = dict(p.split("=", 1) for p in header.strip().split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance_s:
        return False
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, given)


AFTERSHIP_SIGNATURE_HEADER = "aftership-hmac-sha256"


def aftership_signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """AfterShip's own header: base64 of the HMAC-SHA256 of the raw body."""
    if not header:
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), header.strip())


# --- payload shapes --------------------------------------------------------------

# Sweet Tracker levels: 1 배송준비중, 2 집화완료, 3 배송중, 4 지점 도착, 5 배송출발, 6 배송 완료.
SWEETTRACKER_LEVELS: dict[int, ShipmentStatus] = {
    1: S.INFO_RECEIVED, 2: S.IN_TRANSIT, 3: S.IN_TRANSIT, 4: S.IN_TRANSIT,
    5: S.OUT_FOR_DELIVERY, 6: S.DELIVERED,
}  # fmt: skip
# AfterShip tags (CamelCase) and their sub-status prefixes.
AFTERSHIP_TAGS: dict[str, ShipmentStatus] = {
    "Pending": S.PENDING, "InfoReceived": S.INFO_RECEIVED, "InTransit": S.IN_TRANSIT,
    "OutForDelivery": S.OUT_FOR_DELIVERY, "AttemptFail": S.ATTEMPT_FAIL,
    "AvailableForPickup": S.AVAILABLE_FOR_PICKUP, "Delivered": S.DELIVERED,
    "Exception": S.EXCEPTION, "Expired": S.EXPIRED,
}  # fmt: skip
# AfterShip reports a return to sender as Exception with this sub-status.
AFTERSHIP_RETURNED_SUBTAGS = frozenset({"Exception_011", "Exception_012"})


def parse_time(value: Any, *, naive_tz: ZoneInfo = KST) -> datetime:
    """ISO text (naive = `naive_tz`), Sweet Tracker's 'YYYY-MM-DD HH:MM:SS', or epoch ms."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000.0 if value > 10**11 else float(value)
        return datetime.fromtimestamp(seconds, tz=UTC)
    if not isinstance(value, str) or not value.strip():
        raise BadPayload(f"bad time {value!r}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadPayload(f"bad time {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=naive_tz)


def _text(value: Any, field: str) -> str:
    if value is None or isinstance(value, dict | list):
        raise BadPayload(f"{field} is required")
    text = str(value).strip()
    if not text:
        raise BadPayload(f"{field} is required")
    return text


def _normalised(item: dict[str, Any]) -> list[TrackingEvent]:
    raw = _text(item.get("status"), "status")
    try:
        status = ShipmentStatus(raw)
    except ValueError:
        raise BadPayload(f"unknown status {raw!r}") from None
    if status is S.CANCELLED:
        raise BadPayload("a carrier cannot report 'cancelled'")
    event_id = item.get("event_id")
    return [
        TrackingEvent(
            tracking_number=_text(item.get("tracking_number"), "tracking_number"),
            carrier=item.get("carrier") or None,
            status=status,
            occurred_at=parse_time(item.get("occurred_at")),
            location=str(item.get("location") or ""),
            message=str(item.get("message") or ""),
            raw_status=raw,
            event_id=str(event_id) if event_id else None,
        )
    ]


def _sweettracker_level(value: Any) -> ShipmentStatus:
    try:
        return SWEETTRACKER_LEVELS[int(value)]
    except (KeyError, TypeError, ValueError):
        raise BadPayload(f"unknown Sweet Tracker level {value!r}") from None


def _sweettracker(item: dict[str, Any]) -> list[TrackingEvent]:
    """The callback ({invoice_no, level, time_trans, where_, ...}) or a tracking
    API result ({invoiceNo, trackingDetails: [{time, level, where, kind}]})."""
    code = item.get("t_code") or item.get("code")
    if "trackingDetails" in item:
        number = _text(item.get("invoiceNo"), "invoiceNo")
        details = item["trackingDetails"]
        if not isinstance(details, list):
            raise BadPayload("trackingDetails must be a list")
        return [
            TrackingEvent(
                tracking_number=number, carrier=code,
                status=_sweettracker_level(d.get("level")),
                occurred_at=parse_time(d.get("time") or d.get("timeString")),
                location=str(d.get("where") or ""), message=str(d.get("kind") or ""),
                raw_status=f"level {d.get('level')}",
            )
            for d in details
            if isinstance(d, dict)
        ]
    return [
        TrackingEvent(
            tracking_number=_text(item.get("invoice_no"), "invoice_no"), carrier=code,
            status=_sweettracker_level(item.get("level")),
            occurred_at=parse_time(item.get("time_trans") or item.get("time_sweet")),
            location=str(item.get("where_") or ""), message=str(item.get("details_trans") or ""),
            raw_status=f"level {item.get('level')}",
            event_id=str(item["fid"]) + f":{item.get('level')}" if item.get("fid") else None,
        )
    ]  # fmt: skip


def _aftership_status(tag: Any, subtag: Any) -> ShipmentStatus:
    if subtag in AFTERSHIP_RETURNED_SUBTAGS:
        return S.RETURNED_TO_SENDER
    status = AFTERSHIP_TAGS.get(str(tag))
    if status is None:
        raise BadPayload(f"unknown AfterShip tag {tag!r}")
    return status


def _aftership(item: dict[str, Any]) -> list[TrackingEvent]:
    """A webhook ({msg: {tracking_number, slug, checkpoints: [...]}}) or a bare tracking."""
    msg = item.get("msg", item)
    if not isinstance(msg, dict):
        raise BadPayload("msg must be an object")
    number = _text(msg.get("tracking_number"), "tracking_number")
    checkpoints = msg.get("checkpoints") or []
    if not isinstance(checkpoints, list):
        raise BadPayload("checkpoints must be a list")
    events = [
        TrackingEvent(
            tracking_number=number, carrier=msg.get("slug") or c.get("slug"),
            status=_aftership_status(c.get("tag"), c.get("subtag")),
            occurred_at=parse_time(c.get("checkpoint_time"), naive_tz=KST),
            location=str(c.get("location") or c.get("city") or ""),
            message=str(c.get("message") or ""),
            raw_status=str(c.get("subtag") or c.get("tag")),
        )
        for c in checkpoints
        if isinstance(c, dict)
    ]
    return events


PARSERS = {"telemart": _normalised, "sweettracker": _sweettracker, "aftership": _aftership}


def parse_payload(provider: str, body: Any) -> list[TrackingEvent]:
    """A single event (object) or a batch (array) in the provider's shape."""
    parser = PARSERS.get(provider)
    if parser is None:
        raise BadPayload(f"unknown provider {provider!r}; one of {', '.join(sorted(PARSERS))}")
    items = body if isinstance(body, list) else [body]
    if len(items) > MAX_BATCH:
        raise BadPayload(f"at most {MAX_BATCH} events per request")
    events: list[TrackingEvent] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadPayload(f"item {index}: an event must be an object")
        try:
            events.extend(parser(item))
        except BadPayload as exc:
            raise BadPayload(f"item {index}: {exc}") from None
    return events
