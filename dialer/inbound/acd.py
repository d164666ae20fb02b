"""The ACD rules, pure: which agent takes a waiting call, which call a freed agent takes,
where a caller stands and how long they may wait.

A queue is fed by called numbers. Agents hold skills with levels (1 is the best); a call
first goes to agents of level 1, and every `overflow_s` of waiting opens the next level.
Among the agents allowed, the one idle longest takes it. A freed agent takes, among the
calls allowed at their level, the one of the highest queue priority (VIP first), then the
one waiting longest. Callbacks keep their caller's place: they sit in the queue as a
waiting entry with the time the caller first called. Times are the caller's clock
(seconds, monotonic or virtual).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping

MAX_LEVEL = 9
MIN_STEP_S = 0.001
DEFAULT_AHT_S = 240.0  # until the queue has answered calls of its own


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class QueueRule:
    queue_id: int
    name: str
    priority: int = 0  # higher first: VIP queues answer before the others
    overflow_s: float = 15.0  # each step of waiting opens the next skill level
    announce_every_s: float = 30.0  # position and wait repeated this often
    callback_after_s: float = 45.0  # keep-my-place offered after this wait (0: never)
    wrap_s: float = 10.0  # after-call work given to the agent after an inbound call
    aht_s: float = DEFAULT_AHT_S  # expected handle time, for the wait estimate


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentView:
    """What the ACD needs of an agent: skills, and since when they are free (None: busy)."""

    agent_id: int
    skills: Mapping[int, int]  # queue id -> level (1 best)
    free_since_s: float | None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Waiting:
    """A caller waiting in a queue (or a callback holding its caller's place)."""

    call_id: str
    queue_id: int
    since_s: float  # when the caller reached the queue (a callback keeps the original time)
    callback: bool = False


def allowed_level(rule: QueueRule, waited_s: float) -> int:
    """The worst skill level that may take a call that has waited this long."""
    if rule.overflow_s <= 0:
        return MAX_LEVEL
    return min(MAX_LEVEL, 1 + int(max(0.0, waited_s) // rule.overflow_s))


def pick_agent(
    rule: QueueRule, waited_s: float, agents: Iterable[AgentView]
) -> AgentView | None:
    """The agent for a call of `rule`'s queue: best level first, then longest idle."""
    limit = allowed_level(rule, waited_s)
    best: tuple[int, float, int] | None = None
    chosen: AgentView | None = None
    for agent in agents:
        level = agent.skills.get(rule.queue_id)
        if agent.free_since_s is None or level is None or level > limit:
            continue
        key = (level, agent.free_since_s, agent.agent_id)
        if best is None or key < best:
            best, chosen = key, agent
    return chosen


def pick_call(
    agent: AgentView, waiting: Iterable[Waiting], rules: Mapping[int, QueueRule], now_s: float
) -> Waiting | None:
    """The call a freed agent takes: highest queue priority, then longest wait, among the
    calls whose wait already allows the agent's level."""
    best: tuple[int, float, str] | None = None
    chosen: Waiting | None = None
    for call in waiting:
        level = agent.skills.get(call.queue_id)
        rule = rules.get(call.queue_id)
        if level is None or rule is None or level > allowed_level(rule, now_s - call.since_s):
            continue
        key = (-rule.priority, call.since_s, call.call_id)
        if best is None or key < best:
            best, chosen = key, call
    return chosen


def next_overflow_s(rule: QueueRule, waited_s: float) -> float | None:
    """Seconds until the next skill level opens (None when all levels are open)."""
    if rule.overflow_s <= 0 or allowed_level(rule, waited_s) >= MAX_LEVEL:
        return None
    step = allowed_level(rule, waited_s) * rule.overflow_s - waited_s
    # at least a millisecond: a wait a hair under a step (float sums of clock times) must
    # not ask to be woken again at the same instant, forever
    return max(step, MIN_STEP_S)


def position(call: Waiting, waiting: Iterable[Waiting]) -> int:
    """1 for the next caller of the queue: callbacks holding a place count."""
    ahead = sum(1 for w in waiting if w.queue_id == call.queue_id
                and (w.since_s, w.call_id) < (call.since_s, call.call_id))
    return ahead + 1


def estimated_wait_s(*, position: int, agents: int, aht_s: float) -> float:
    """Expected wait of the caller at `position`: one agent frees every AHT ÷ agents."""
    if position <= 0:
        return 0.0
    if agents <= 0:
        return math.inf
    return position * aht_s / agents


def announced_minutes(wait_s: float) -> int:
    """The wait as callers hear it: whole minutes, rounded up, at least one."""
    if math.isinf(wait_s):
        return 0  # "an agent will be with you as soon as possible"
    return max(1, math.ceil(wait_s / 60.0))
