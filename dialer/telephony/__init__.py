"""Telephony behind a port made of events (`port.py`, `events.py`), drivers by name:
`sim` (the simulator's seeded carrier model in real time); more register themselves in
`PORTS` (e.g. `ari`, Asterisk)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dialer.errors import DialerError
from dialer.telephony.port import TelephonyPort
from dialer.telephony.sim import SimCarrier

__all__ = ["PORTS", "SimCarrier", "TelephonyPort", "open_port"]

PortFactory = Callable[..., TelephonyPort]
PORTS: dict[str, PortFactory] = {"sim": SimCarrier}


def open_port(name: str, **options: Any) -> TelephonyPort:
    """The telephony port a setting names (`options` go to its factory: e.g. the sim
    carrier's seed, time_scale, scenario)."""
    factory = PORTS.get(name)
    if factory is None:
        raise DialerError(f"telephony port {name!r} is not available ({', '.join(PORTS)})")
    return factory(**options)
