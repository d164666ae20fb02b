"""Prometheus metrics: one registry, the histograms of a call's journey."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from dialer.core.planner import Decision

REGISTRY = CollectorRegistry()

# Latency buckets in seconds: fine below 100 ms where routing lives.
_FAST_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)

http_requests = Counter(
    "telemart_http_requests", "HTTP requests served", ["method", "status"], registry=REGISTRY
)
http_request_seconds = Histogram(
    "telemart_http_request_seconds", "HTTP request latency", buckets=_FAST_BUCKETS_S,
    registry=REGISTRY,
)  # fmt: skip

# --- the live dialer: each call's journey (dialer.store.journeys names them) ------------------
_JOURNEY_BUCKETS_S = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 15.0, 30.0)
answer_to_agent_seconds = Histogram(
    "telemart_answer_to_agent_seconds", "live answer to an agent bridged on the call",
    buckets=_JOURNEY_BUCKETS_S, registry=REGISTRY,
)  # fmt: skip
answer_to_screen_pop_seconds = Histogram(
    "telemart_answer_to_screen_pop_seconds",
    "live answer to the screen pop acknowledged by the agent's browser",
    buckets=_JOURNEY_BUCKETS_S, registry=REGISTRY,
)  # fmt: skip
dial_to_answer_seconds = Histogram(
    "telemart_dial_to_answer_seconds", "dial to live answer (ring time)",
    buckets=_JOURNEY_BUCKETS_S, registry=REGISTRY,
)  # fmt: skip
order_submit_seconds = Histogram(
    "telemart_order_submit_seconds",
    "order form submitted to order committed, as the agent's browser saw it",
    buckets=_JOURNEY_BUCKETS_S, registry=REGISTRY,
)  # fmt: skip
JOURNEY_HISTOGRAMS: dict[str, Histogram] = {
    "answer_to_agent": answer_to_agent_seconds,
    "answer_to_screen_pop": answer_to_screen_pop_seconds,
    "dial_to_answer": dial_to_answer_seconds,
    "order_submit": order_submit_seconds,
}


# --- the live dialer's planner: what it decided, tick by tick (the simulator's PlanTally) -----
dials_planned = Counter(
    "telemart_dialer_dials_planned", "dials the pacing planner decided to place",
    ["campaign"], registry=REGISTRY,
)  # fmt: skip
dials_held_by_cap = Counter(
    "telemart_dialer_dials_held_by_cap",
    "dials the abandon cap held back (bench pacing's refused_dials)",
    ["campaign"], registry=REGISTRY,
)  # fmt: skip


def count_decision(campaign_id: int, decision: Decision) -> None:
    """One tick of a campaign's planner."""
    campaign = str(campaign_id)
    if decision.count:
        dials_planned.labels(campaign).inc(decision.count)
    if decision.held_by_cap:
        dials_held_by_cap.labels(campaign).inc(decision.held_by_cap)


def observe_journey(name: str, seconds: float) -> None:
    """Record one latency of a call's journey (names from dialer.store.journeys)."""
    histogram = JOURNEY_HISTOGRAMS.get(name)
    if histogram is not None:
        histogram.observe(max(0.0, seconds))
