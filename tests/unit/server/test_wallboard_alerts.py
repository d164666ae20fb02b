"""The wallboard's alerts: abandon rate near or over the cap, an agent too long in a state,
a desktop gone."""

from __future__ import annotations

from typing import Any

from server.ws_wallboard import CAP_NEAR, STUCK_AFTER_S, alerts_for


def campaign(rate: float, *, cap: float = 0.03, status: str = "running") -> dict[str, Any]:
    return {"id": 1, "name": "봄", "status": status, "abandon_rate": rate, "abandon_cap": cap}


def agent(state: str, in_state_s: float, *, connected: bool = True) -> dict[str, Any]:
    return {"username": "ana", "state": state, "in_state_s": in_state_s, "connected": connected}


def test_cap_alerts_start_at_80_percent_of_the_cap() -> None:
    assert alerts_for([campaign(CAP_NEAR * 0.03 - 0.0001)], []) == []
    near = alerts_for([campaign(0.025)], [])
    assert [(a["kind"], a["level"]) for a in near] == [("cap_near", "warn")]
    over = alerts_for([campaign(0.031)], [])
    assert [(a["kind"], a["level"]) for a in over] == [("cap_over", "bad")]
    assert alerts_for([campaign(0.031, status="paused")], []) == []


def test_an_agent_stuck_in_a_state_and_a_desktop_gone() -> None:
    limit = STUCK_AFTER_S["wrap_up"]
    assert alerts_for([], [agent("wrap_up", limit - 1)]) == []
    assert [a["kind"] for a in alerts_for([], [agent("wrap_up", limit)])] == ["stuck"]
    assert alerts_for([], [agent("ready", 10_000)]) == []  # waiting for calls is no fault
    gone = alerts_for([], [agent("on_call", 5, connected=False)])
    assert [(a["kind"], a["level"]) for a in gone] == [("desktop_gone", "bad")]
    assert alerts_for([], [agent("offline", 5, connected=False)]) == []
