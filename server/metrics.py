"""Prometheus metrics: one registry, the histograms of a call's journey."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

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
