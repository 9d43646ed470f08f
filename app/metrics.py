"""Prometheus metrics: what the service is doing, for an operator's dashboard and alerts.

Labels carry route templates, statuses, job ids and outcomes only: never an id of a case or a
client, never a path as requested (a calendar feed's path is a capability), never client data.

Several uvicorn workers: set PROMETHEUS_MULTIPROC_DIR (`casusoverleg serve --workers N` does it)
and every worker's numbers are summed at /metrics (prometheus-client's multiprocess mode).
This module imports nothing of the app, so every layer may count."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

HTTP_REQUESTS = Counter(
    "casusoverleg_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "casusoverleg_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_RECEIVED = Counter(
    "casusoverleg_partner_events",
    "Partner events received (CloudEvents intake): stored anew, or replays of stored ones.",
    ["outcome"],
)
ACCESS_LOG_ROWS = Counter(
    "casusoverleg_access_log_rows",
    "Access-log rows written, by outcome (allowed or denied).",
    ["outcome"],
)
JOB_RUNS = Counter(
    "casusoverleg_job_runs",
    "Scheduled job slots run by this instance, by job and outcome (ok, skipped, failed, abandoned).",
    ["job", "outcome"],
)
# Database-wide figures, read by whoever refreshes them last (every replica sees the same).
OUTBOX_BACKLOG = Gauge(
    "casusoverleg_outbox_backlog",
    "Webhook notifications waiting for delivery (not delivered, not dead).",
    multiprocess_mode="mostrecent",
)
OUTBOX_DEAD_LETTERS = Gauge(
    "casusoverleg_outbox_dead_letters",
    "Webhook notifications given up after their last attempt (dead letters).",
    multiprocess_mode="mostrecent",
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "casusoverleg_outbox_oldest_pending_seconds",
    "Age of the oldest webhook notification still waiting for delivery.",
    multiprocess_mode="mostrecent",
)

OUTBOX_SQL = """
SELECT count(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL),
       count(*) FILTER (WHERE dead_at IS NOT NULL),
       coalesce(extract(epoch FROM now() - min(created_at)
                FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL)), 0)
FROM outbox_message
"""


def set_outbox(backlog: int, dead: int, oldest_seconds: float) -> None:
    OUTBOX_BACKLOG.set(backlog)
    OUTBOX_DEAD_LETTERS.set(dead)
    OUTBOX_OLDEST_SECONDS.set(oldest_seconds)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus text format, summed over workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
