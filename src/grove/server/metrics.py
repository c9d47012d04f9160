"""Prometheus metrics of a node: queries and latency by type, errors by status, segments, rows ingested."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.queries = Counter(
            "grove_queries", "Native and SQL queries served, by type", ["type"], registry=self.registry
        )
        self.latency = Histogram(
            "grove_query_seconds", "Query latency by type", ["type"], buckets=_BUCKETS, registry=self.registry
        )
        self.errors = Counter(
            "grove_errors", "Error responses by HTTP status", ["status"], registry=self.registry
        )
        self.segments = Gauge(
            "grove_segments_served", "Visible segments being served", registry=self.registry
        )
        self.rows_ingested = Counter("grove_rows_ingested", "Rows ingested by tasks", registry=self.registry)
        self.running = Gauge("grove_queries_running", "Queries running now", registry=self.registry)
        self.waiting = Gauge("grove_queries_waiting", "Queries waiting for a slot", registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
