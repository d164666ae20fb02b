"""Telephony behind a port made of events (`port.py`, `events.py`): `sim` (a seeded carrier
model in real time); `ari` (Asterisk) to come."""

from __future__ import annotations

from dialer.errors import DialerError
from dialer.telephony.port import DialingPort, DialResult, TelephonyPort
from dialer.telephony.sim import SimCarrier

__all__ = ["DialResult", "DialingPort", "SimCarrier", "TelephonyPort", "open_port"]


def open_port(name: str, *, seed: int = 1, time_scale: float = 1.0) -> DialingPort:
    """The telephony port a setting names."""
    if name == "sim":
        return SimCarrier(seed=seed, time_scale=time_scale)
    raise DialerError(f"telephony port {name!r} is not available (sim)")
