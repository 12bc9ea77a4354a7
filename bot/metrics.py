"""Prometheus metrics (served at ``GET /metrics``)."""

from __future__ import annotations

import importlib.metadata
import platform

from prometheus_client import Counter, Gauge, Histogram, Info

COMMANDS = Counter("phonebot_commands_total", "Slash commands and button clicks handled", ["command", "outcome"])
ACK_SECONDS = Histogram(
    "phonebot_ack_seconds",
    "Time from receiving a Slack request to acknowledging it",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
HANDLER_SECONDS = Histogram(
    "phonebot_handler_seconds",
    "Time to finish a command's work after the ack",
    ["command"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
VENDOR_REQUESTS = Counter(
    "phonebot_vendor_requests_total", "Requests made to vendor APIs", ["vendor", "endpoint", "outcome"]
)
VENDOR_SECONDS = Histogram(
    "phonebot_vendor_request_seconds",
    "Vendor API latency",
    ["vendor", "endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBHOOKS = Counter("phonebot_webhooks_total", "Vendor webhooks received", ["vendor", "outcome"])
ALERT_EVENTS = Counter("phonebot_alert_events_total", "Alert events offered to the queue", ["vendor", "outcome"])
ALERT_DELIVERIES = Counter("phonebot_alert_deliveries_total", "Alert queue entries finished", ["outcome"])
SLACK_RATE_LIMITED = Counter("phonebot_slack_rate_limited_total", "Slack 429 answers honoured (Retry-After)")
HTTP_REFUSED = Counter(
    "phonebot_http_refused_total", "HTTP requests refused before the app read them (413, 408, 400)", ["status"]
)
HTTP_CONNECTIONS_SHED = Counter(
    "phonebot_http_connections_shed_total",
    "Connections closed by the server guard",
    ["reason"],  # header_timeout | over_capacity
)
ALERT_REPLAYS = Counter(
    "phonebot_alert_replays_total", "Transient dead letters replayed by the worker once Slack answered again"
)
ALERT_QUEUE_DEPTH = Gauge("phonebot_alert_queue_depth", "Alert queue entries not yet delivered (queued or pending)")
ALERT_OLDEST_PENDING = Gauge(
    "phonebot_alert_oldest_pending_seconds", "Age of the oldest alert queue entry not yet delivered (0 when none)"
)
#: "Add to Slack": the same two per workspace pipeline, labelled with its URL id (``T123``, ``E1-T2``; never a secret).
ALERT_WORKSPACE_QUEUE_DEPTH = Gauge(
    "phonebot_alert_workspace_queue_depth", "A workspace's alert queue entries not yet delivered", ["workspace"]
)
ALERT_WORKSPACE_OLDEST_PENDING = Gauge(
    "phonebot_alert_workspace_oldest_pending_seconds",
    "Age of the oldest entry in a workspace's alert queue (0 when none)",
    ["workspace"],
)
ALERT_PIPELINES = Gauge("phonebot_alert_pipelines", "Workspace alert pipelines running in this process")
TASK_RESTARTS = Counter(
    "phonebot_task_restarts_total", "Background tasks that crashed and were restarted by the supervisor", ["task"]
)
TASK_RUNNING = Gauge("phonebot_task_running", "1 while a supervised background task runs, else 0", ["task"])
BUILD_INFO = Info("phonebot_build", "The running phonebot: its version and the Python it runs on")


def _build_labels() -> dict[str, str]:
    try:
        version = importlib.metadata.version("phonebot")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        version = "unknown"
    return {"version": version, "python": platform.python_version()}


BUILD_INFO.info(_build_labels())
