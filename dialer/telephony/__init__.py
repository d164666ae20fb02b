"""Telephony behind a port made of events (`port.py`, `events.py`), drivers by name in
`PORTS`: `sim` (the simulator's seeded carrier model in real time), `ari` (Asterisk)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from config.settings import Settings
from dialer.errors import DialerError
from dialer.sim.scenario import load_scenario
from dialer.telephony.port import TelephonyPort
from dialer.telephony.sim import SimCarrier

__all__ = ["PORTS", "SimCarrier", "TelephonyPort", "open_port"]

PortFactory = Callable[..., TelephonyPort]


def _sim(settings: Settings, **options: Any) -> TelephonyPort:
    """`options` (tests, benchmarks) win over the settings' TELEMART_SIM_*."""
    chosen = {"seed": settings.sim_seed, "time_scale": settings.sim_time_scale, **options}
    if chosen.get("scenario") is None:
        chosen["scenario"] = load_scenario(settings.sim_scenario)
    return SimCarrier(**chosen)


def _ari(settings: Settings, **options: Any) -> TelephonyPort:
    from dialer.telephony.ari import AriPort, ari_settings

    return AriPort(ari_settings(settings), **options)


PORTS: dict[str, PortFactory] = {"sim": _sim, "ari": _ari}


def open_port(settings: Settings, **options: Any) -> TelephonyPort:
    """The telephony port `settings.telephony` names, made from the settings."""
    factory = PORTS.get(settings.telephony)
    if factory is None:
        raise DialerError(f"telephony port {settings.telephony!r} is not available "
                          f"({', '.join(PORTS)})")
    return factory(settings, **options)
