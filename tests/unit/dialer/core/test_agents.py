"""Agent and call state machines: only legal moves, every second accounted for."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.core.agents import LEGAL_TRANSITIONS, Agent, AgentState
from dialer.core.calls import LEGAL_CALL_TRANSITIONS, CallAttempt, CallState
from dialer.errors import DialerError, IllegalTransition

steps = st.lists(
    st.tuples(st.sampled_from(list(AgentState)), st.floats(0.0, 500.0, allow_nan=False)),
    max_size=60,
)


@given(steps)
def test_agent_accepts_only_legal_transitions_and_accounts_all_time(
    moves: list[tuple[AgentState, float]],
) -> None:
    agent = Agent(1, at_s=100.0)
    now = 100.0
    for to, dt_s in moves:
        now += dt_s
        before = agent.state
        legal = to in LEGAL_TRANSITIONS[before]
        if legal:
            agent.transition(to, at_s=now, reason="break" if to is AgentState.PAUSED else None)
            assert agent.state is to
        else:
            with pytest.raises(IllegalTransition):
                agent.transition(to, at_s=now, reason="x")
            assert agent.state is before
    spent = agent.time_in_state(now + 7.0)
    assert math.isclose(sum(spent.values()), now + 7.0 - 100.0, abs_tol=1e-6)
    assert all(v >= 0 for v in spent.values())


def test_busy_agent_cannot_log_out_or_pause_mid_call() -> None:
    agent = Agent(2, at_s=0.0)
    agent.transition(AgentState.READY, at_s=0.0)
    agent.transition(AgentState.RESERVED, at_s=5.0)
    agent.transition(AgentState.ON_CALL, at_s=5.5)
    for to in (AgentState.OFFLINE, AgentState.PAUSED, AgentState.READY):
        with pytest.raises(IllegalTransition):
            agent.transition(to, at_s=6.0, reason="lunch")
    agent.transition(AgentState.WRAP_UP, at_s=60.0)
    agent.transition(AgentState.PAUSED, at_s=70.0, reason="lunch")
    assert agent.pause_reason == "lunch"
    spent = agent.time_in_state(100.0)
    assert spent[AgentState.READY] == 5.0
    assert spent[AgentState.ON_CALL] == 54.5
    assert spent[AgentState.WRAP_UP] == 10.0
    assert spent[AgentState.PAUSED] == 30.0


def test_pause_needs_reason_and_time_cannot_go_back() -> None:
    agent = Agent(3, at_s=10.0)
    with pytest.raises(IllegalTransition):
        agent.transition(AgentState.PAUSED, at_s=11.0)
    with pytest.raises(IllegalTransition):
        agent.transition(AgentState.READY, at_s=9.0)


def test_errors_share_the_dialer_root_and_use_docstring_messages() -> None:
    err = IllegalTransition("a -> b")
    assert isinstance(err, DialerError)
    assert str(err) == "This state change is not allowed: a -> b"


call_steps = st.lists(st.sampled_from(list(CallState)), max_size=12)


@given(call_steps)
def test_call_attempt_follows_its_lifecycle_with_timestamps(moves: list[CallState]) -> None:
    call = CallAttempt(1, lead_id=9, at_s=0.0)
    at = 0.0
    for to in moves:
        at += 1.0
        if to in LEGAL_CALL_TRANSITIONS[call.state]:
            call.advance(to, at_s=at)
        else:
            with pytest.raises(IllegalTransition):
                call.advance(to, at_s=at)
    times = [t for _, t in call.history]
    assert times == sorted(times)
    assert call.history[0][0] is CallState.QUEUED
    for (a, _), (b, _) in zip(call.history, call.history[1:], strict=False):
        assert b in LEGAL_CALL_TRANSITIONS[a]


def test_abandoned_call_is_final_and_timestamped() -> None:
    call = CallAttempt(7, lead_id=1, at_s=0.0)
    for to, at in ((CallState.DIALING, 0.1), (CallState.RINGING, 0.5),
                   (CallState.ANSWERED_LIVE, 8.0), (CallState.ABANDONED, 10.0)):
        call.advance(to, at_s=at)
    assert call.is_final
    assert call.at(CallState.ANSWERED_LIVE) == 8.0
    assert call.at(CallState.CONNECTED) is None
