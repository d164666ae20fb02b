"""Telephony behind a port: `sim` (seeded carrier model in real time); `sip` to come."""

from __future__ import annotations

from dialer.errors import DialerError
from dialer.telephony.port import DialResult, TelephonyPort
from dialer.telephony.sim import SimCarrier

__all__ = ["DialResult", "SimCarrier", "TelephonyPort", "open_port"]


def open_port(name: str, *, seed: int = 1, time_scale: float = 1.0) -> TelephonyPort:
    """The telephony port a setting names."""
    if name == "sim":
        return SimCarrier(seed=seed, time_scale=time_scale)
    raise DialerError(f"telephony port {name!r} is not available (sim)")
