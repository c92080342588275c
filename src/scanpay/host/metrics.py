"""Prometheus metrics of one host process (``GET /metrics``).

Each :class:`HostMetrics` owns its registry, so several apps in one process
(tests) never share counters. With ``--workers N`` the workers share one
port, so a scrape reaches one of them at random: ``serve`` then points
``PROMETHEUS_MULTIPROC_DIR`` at a directory where every worker keeps its
counts (prometheus_client's multiprocess mode), and ``/metrics`` on any
worker answers the sum over all of them.

====================================================  =============================
metric                                                labels
====================================================  =============================
``scanpay_http_requests_total``                       method, route, status
``scanpay_http_request_duration_seconds`` (histogram) method, route
``scanpay_payments_total``                            kind (payment, order_payment),
                                                      status, code
``scanpay_refunds_total``                             status, code
``scanpay_orders_total``                              status (each state reached)
``scanpay_risk_rule_hits_total``                      rule, outcome (decline, review)
====================================================  =============================
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["CONTENT_TYPE", "HostMetrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HostMetrics:
    """The host's counters and histograms on a private registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "scanpay_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "scanpay_http_request_duration_seconds",
            "Time to answer an HTTP request (long-polls and event streams included)",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.payments = Counter(
            "scanpay_payments",
            "Payment outcomes (new payments and state changes; retries not counted)",
            ["kind", "status", "code"],
            registry=r,
        )
        self.refunds = Counter("scanpay_refunds", "Refund outcomes", ["status", "code"], registry=r)
        self.notices = Counter(
            "scanpay_network_notices",
            "Payment networks' notifications, accepted or refused as forged",
            ["network", "outcome"],
            registry=r,
        )
        self.orders = Counter(
            "scanpay_orders", "Merchant-presented order states reached", ["status"], registry=r
        )
        self.rule_hits = Counter(
            "scanpay_risk_rule_hits",
            "Risk rules that declined or flagged a transaction",
            ["rule", "outcome"],
            registry=r,
        )

    def payment(self, kind: str, status: str, code: str) -> None:
        self.payments.labels(kind, status, code).inc()

    def refund(self, status: str, code: str) -> None:
        self.refunds.labels(status, code).inc()

    def notice(self, network: str, outcome: str) -> None:
        self.notices.labels(network, outcome).inc()

    def order(self, status: str) -> None:
        self.orders.labels(status).inc()

    def rule_hit(self, rule: str, outcome: str) -> None:
        self.rule_hits.labels(rule, outcome).inc()

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        """The text exposition format (summed over the workers in multiprocess mode)."""
        shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if shared:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=shared)
            return _generate(registry)
        return _generate(self.registry)
